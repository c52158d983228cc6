"""DRF's authtoken tokens become hashed API tokens, and DRF's table goes.

DRF kept each key in plain text (`authtoken_token`). Each becomes an ApiToken holding only
knox's digest of the same key, so a client that has one goes on using it, until it expires
PCM_TOKEN_TTL_DAYS after this migration. Then the table is dropped, and with it the plain
keys; DRF's authtoken app is no longer installed. Nothing to undo: the keys are gone.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

TABLE = "authtoken_token"
NAME = "DRF token (migrated)"


def hash_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, {quote('user_id')} FROM {quote(TABLE)}")
        rows = cursor.fetchall()
    ApiToken = apps.get_model("pcm", "ApiToken")
    expiry = timezone.now() + timedelta(days=settings.PCM_TOKEN_TTL_DAYS)
    ApiToken.objects.bulk_create(
        ApiToken(
            digest=hash_token(key),
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=user_id,
            expiry=expiry,
            name=NAME,
        )
        for key, user_id in rows
    )
    schema_editor.execute(f"DROP TABLE {quote(TABLE)}")
    # Forget DRF's migrations too, so that installing its app again would create its table.
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [("pcm", "0003_apitoken")]

    operations = [migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop)]
