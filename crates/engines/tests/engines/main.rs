//! Behaviour tests of the engines against a real barrier-encrypted `View` over in-memory
//! storage: every KV v1, KV v2 and cubbyhole endpoint, including bad input.

mod common;
mod cubbyhole;
mod kv_v1;
mod kv_v2_data;
mod kv_v2_metadata;
mod kv_v2_misc;
mod kv_v2_versions;
