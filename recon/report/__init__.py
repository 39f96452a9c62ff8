"""The day's Excel report for people (`recon report --date D`).

`workbook.write_report` gathers the day (`data`), writes the Summary with its charts (`summary`)
and one table sheet per result (`sheets`), every untrusted value through `safe`, headers in the
workspace's language (`i18n`).
"""
