//! HMAC-SHA256 (RFC 2104) over the `sha2` crate, keyed once: the inner and outer states
//! after the padded key are kept, so each value costs two short hashes and no allocation.

use sha2::{Digest, Sha256};

/// SHA-256's block size, in bytes.
const BLOCK: usize = 64;

/// HMAC-SHA256 under one key.
#[derive(Clone)]
pub(crate) struct KeyedHash {
    inner: Sha256,
    outer: Sha256,
}

impl KeyedHash {
    /// Keyed with `key` (a key longer than a block is hashed first, as RFC 2104 says).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut padded = block;
            for b in &mut padded {
                *b ^= byte;
            }
            let mut h = Sha256::new();
            h.update(padded);
            h
        };
        Self {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// HMAC-SHA256 of `message`.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        inner.update(message);
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::KeyedHash;

    fn hex(bytes: &[u8]) -> String {
        bptmig_workdir::hex(bytes)
    }

    /// RFC 4231 test cases 1–4, 6 and 7 (case 5 checks a truncated output).
    #[test]
    fn rfc_4231_vectors() {
        let cases: [(Vec<u8>, &[u8], &str); 6] = [
            (
                vec![0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                &[0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                (1..=25).collect(),
                &[0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                vec![0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex(&KeyedHash::new(&key).mac(data)), expected);
        }
    }

    #[test]
    fn the_same_state_serves_many_messages() {
        let h = KeyedHash::new(b"Jefe");
        let first = h.mac(b"John Doe");
        assert_eq!(h.mac(b"Jane Roe"), KeyedHash::new(b"Jefe").mac(b"Jane Roe"));
        assert_eq!(h.mac(b"John Doe"), first);
        assert_ne!(KeyedHash::new(b"Jeff").mac(b"John Doe"), first);
    }
}
