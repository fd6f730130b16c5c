"""The pure core: statistics, profiles, metrics, estimation, checklist rules, criteria, validation.

No database and no Streamlit here (tests/test_architecture.py checks it): every function
takes records and frames and returns frozen records, so it is tested with known answers.
"""
