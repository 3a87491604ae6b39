/* idsess--1.1--1.2.sql: from idsess 1.1 to 1.2 (also the last part of a fresh 1.2 install) */

\echo Use "ALTER EXTENSION idsess UPDATE TO '1.2'" to load this file. \quit

-- A fresh CREATE EXTENSION idsess runs idsess--1.0.sql, idsess--1.0--1.1.sql
-- and then this script, so every 1.2 install is an updated 1.1 one.  As in
-- 1.1, each section below belongs to one change; new objects get a COMMENT,
-- pg_extension_config_dump when they hold data, and privileges as before
-- (nothing to PUBLIC).
