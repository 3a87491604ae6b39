/* idsess--1.0--1.1.sql: from idsess 1.0 to 1.1 (also the second half of a fresh 1.1 install) */

\echo Use "ALTER EXTENSION idsess UPDATE TO '1.1'" to load this file. \quit

-- A fresh CREATE EXTENSION idsess runs idsess--1.0.sql and then this script,
-- so every 1.1 install is an upgraded 1.0 one: the regression suite checks
-- the upgrade path on every run.  Each section below belongs to one change
-- of 1.1; new objects get a COMMENT, pg_extension_config_dump when they hold
-- data, and privileges as in 1.0 (nothing to PUBLIC).
