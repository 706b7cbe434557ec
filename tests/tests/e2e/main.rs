//! End-to-end tests against the real `coffer` binary, one test binary for all (links once, saves disk).

mod audit;
mod auth_approle;
mod auth_jwt;
mod auth_userpass;
mod cli;
mod cli_auth;
mod crash;
mod identity;
mod kv;
mod leases;
mod limits;
mod metrics;
mod mfa;
mod mounts;
mod onboarding;
mod openapi;
mod policy;
mod run_inject;
mod seal;
mod secrets_at_rest;
mod token_types;
mod tokens;
mod wire;
mod wrapping;
