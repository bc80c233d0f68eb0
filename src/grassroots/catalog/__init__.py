"""The catalog: the submission forms, the validation rules and the indicators, as data.

Everything that names a form's columns, a rule or an indicator reads it from here:
forms.yaml, rules.yaml and indicators.yaml beside this module, loaded once
(catalog.forms, catalog.rules, catalog.indicators); catalog.render writes the SQL,
dbt files and docs made from them (`grassroots catalog sync`, checked by
`grassroots catalog check`).
"""

from grassroots.catalog.forms import CATALOG, FORMS, KINDS, Column, Form, FormCatalog, load_forms
from grassroots.catalog.indicators import INDICATOR_CODES, INDICATORS, Indicator, load_indicators
from grassroots.catalog.rules import RULES, Rule, rule

__all__ = [
    "CATALOG",
    "FORMS",
    "INDICATORS",
    "INDICATOR_CODES",
    "KINDS",
    "RULES",
    "Column",
    "Form",
    "FormCatalog",
    "Indicator",
    "Rule",
    "load_forms",
    "load_indicators",
    "rule",
]
