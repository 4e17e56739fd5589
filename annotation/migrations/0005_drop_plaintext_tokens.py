"""DRF's authtoken table held every old API key in plain text. The app stopped using it (keys
are now stored as digests in ApiToken, with an expiry); the table goes, so a database dump no
longer carries working-looking keys and re-adding the app would not bring them back."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotation", "0004_audit_names_api_tokens")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
