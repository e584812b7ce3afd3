-- Usage figures the operator watches: accounts and ideas per city.
ALTER TABLE platform.tenant_usage
    ADD COLUMN users int NOT NULL DEFAULT 0,
    ADD COLUMN ideas int NOT NULL DEFAULT 0;
