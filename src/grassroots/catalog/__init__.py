"""The catalog: the submission forms, the validation rules and the indicators, as data.

Everything that names a form's columns, a rule or an indicator reads it from here.
"""
