//! The barrier binds every value to its path and its keyring term.

use coffer_core::CoreError;
use coffer_core::barrier::Barrier;
use coffer_crypto::{CryptoError, Keyring, keyring};
use coffer_storage::{DynPhysical, memory::MemoryBackend};
use std::sync::Arc;

fn setup() -> (DynPhysical, Barrier) {
    let physical: DynPhysical = Arc::new(MemoryBackend::new());
    let barrier = Barrier::new(physical.clone());
    barrier.install(Keyring::generate());
    (physical, barrier)
}

#[tokio::test]
async fn stored_bytes_are_ciphertext() {
    let (physical, barrier) = setup();
    barrier.put("logical/x/app", b"hunter2-very-secret").await.unwrap();
    let raw = physical.get("logical/x/app").await.unwrap().unwrap();
    assert!(!raw.windows(7).any(|w| w == b"hunter2"));
    assert_eq!(
        barrier.get("logical/x/app").await.unwrap().unwrap().expose(),
        b"hunter2-very-secret"
    );
}

#[tokio::test]
async fn value_moved_to_another_path_fails_to_decrypt() {
    let (physical, barrier) = setup();
    barrier.put("logical/a/secret", b"value").await.unwrap();
    let raw = physical.get("logical/a/secret").await.unwrap().unwrap();
    physical.put("logical/b/secret", raw).await.unwrap();
    let err = barrier.get("logical/b/secret").await.unwrap_err();
    assert!(matches!(err, CoreError::Crypto(CryptoError::Authentication)), "{err:?}");
    assert!(err.to_string().contains("moved from another path"), "{err}");
}

#[tokio::test]
async fn flipped_byte_fails_to_decrypt() {
    let (physical, barrier) = setup();
    barrier.put("k", b"value").await.unwrap();
    let mut raw = physical.get("k").await.unwrap().unwrap();
    let last = raw.len() - 3;
    raw[last] ^= 0x01;
    physical.put("k", raw).await.unwrap();
    assert!(matches!(
        barrier.get("k").await,
        Err(CoreError::Crypto(CryptoError::Authentication))
    ));
}

#[tokio::test]
async fn rotation_keeps_old_values_and_uses_new_term() {
    let (physical, barrier) = setup();
    barrier.put("old", b"1").await.unwrap();
    barrier.install(barrier.keyring().unwrap().rotate());
    barrier.put("new", b"2").await.unwrap();
    assert_eq!(barrier.get("old").await.unwrap().unwrap().expose(), b"1");
    assert_eq!(barrier.get("new").await.unwrap().unwrap().expose(), b"2");
    assert_eq!(
        keyring::term_of(&physical.get("old").await.unwrap().unwrap()).unwrap(),
        1
    );
    assert_eq!(
        keyring::term_of(&physical.get("new").await.unwrap().unwrap()).unwrap(),
        2
    );
}

#[tokio::test]
async fn sealed_barrier_refuses_everything() {
    let (_, barrier) = setup();
    barrier.seal();
    assert!(matches!(barrier.get("k").await, Err(CoreError::Sealed)));
    assert!(matches!(barrier.put("k", b"v").await, Err(CoreError::Sealed)));
}

#[tokio::test]
async fn sealing_drops_the_keyring() {
    // Keys zeroize on drop (Key256 is ZeroizeOnDrop; aws-lc cleanses its key schedules), so
    // sealing must leave no live reference to the keyring behind.
    let (_physical, barrier) = setup();
    barrier.put("k", b"value").await.unwrap();
    let weak = Arc::downgrade(&barrier.keyring().unwrap());
    barrier.seal();
    assert!(weak.upgrade().is_none(), "the keyring outlived the seal");
}

mod properties {
    //! Any value round-trips; any single flipped byte, or a value moved to another path, fails.
    use super::*;
    use proptest::prelude::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().build().unwrap()
    }

    fn path() -> impl Strategy<Value = String> {
        "[a-z0-9_/.-]{1,40}"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_value_round_trips(p in path(), value in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let (_physical, barrier) = setup();
            let read = runtime().block_on(async {
                barrier.put(&p, &value).await.unwrap();
                barrier.get(&p).await.unwrap().unwrap()
            });
            prop_assert_eq!(read.expose(), &value[..]);
        }

        #[test]
        fn any_flipped_byte_fails(
            value in proptest::collection::vec(any::<u8>(), 0..512),
            at in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let (physical, barrier) = setup();
            let result = runtime().block_on(async {
                barrier.put("k", &value).await.unwrap();
                let mut raw = physical.get("k").await.unwrap().unwrap();
                let i = at.index(raw.len());
                raw[i] ^= 1 << bit;
                physical.put("k", raw).await.unwrap();
                barrier.get("k").await
            });
            prop_assert!(matches!(result, Err(CoreError::Crypto(_))), "{:?}", result.map(|v| v.map(|v| v.expose().len())));
        }

        #[test]
        fn any_other_path_fails(p in path(), q in path(), value in proptest::collection::vec(any::<u8>(), 0..256)) {
            prop_assume!(p != q);
            let (physical, barrier) = setup();
            let result = runtime().block_on(async {
                barrier.put(&p, &value).await.unwrap();
                let raw = physical.get(&p).await.unwrap().unwrap();
                physical.put(&q, raw).await.unwrap();
                barrier.get(&q).await
            });
            prop_assert!(matches!(result, Err(CoreError::Crypto(CryptoError::Authentication))));
        }
    }
}
