"""Checking a submission before the night: `grassroots check FILE…` and the upload page.

A file is read as the night reads it (grassroots.reader), validated with the same GX form
suites (grassroots.validation.runner) and, when a warehouse is at hand, checked against
what it already holds with the night's cross-check queries as warnings. Its modules:

  core     check files: the night's findings, in sheet coordinates
  layout   sheet coordinates (Excel row, column letter, header as written)
  cross    the cross-form and plausibility rules against the warehouse (rolled back)
  markup   the sender's workbook back (a CSV as XLSX), wrong cells filled and commented
  command  the `grassroots check` and `grassroots upload-link` commands
  links    per-unit signed upload links (HMAC), their issue and revocation
  receive  an upload's accept path: limits, check, atomic write into the inbox, log
"""
