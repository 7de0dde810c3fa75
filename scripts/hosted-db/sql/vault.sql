-- Vault is installed on every hosted project before its first migration. The
-- grants repeat its after-create script, as hosted's own migration does.
-- supabase_vault reads its root key at server start, so it works in every
-- database of the cluster; setup.sh installs it in template1 too. Idempotent.
create extension if not exists supabase_vault cascade;
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret, vault.update_secret, vault._crypto_aead_det_decrypt to postgres with grant option;
grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
grant execute on function vault.create_secret, vault.update_secret, vault._crypto_aead_det_decrypt to service_role;
