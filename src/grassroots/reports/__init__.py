"""The report site: static Vietnamese pages and Excel workbooks built from the marts.

data (one query per mart) -> site (which pages, and the figures of each) -> pages
(HTML through Jinja2, with SVG charts from charts) and xlsx (one workbook per page and
per province) -> build (writes only what changed; `grassroots report`).
"""
