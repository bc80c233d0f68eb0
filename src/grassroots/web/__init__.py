"""The web pages grassroots serves at the Airflow UI's address (an Airflow 3 plugin's
FastAPI app, mounted under /grassroots): the report site, the GX Data Docs, dbt's docs
and the upload page."""

URL_PREFIX = "/grassroots"  # where the Airflow API server mounts the app
