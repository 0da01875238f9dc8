//! A fast digest for the run cache: the contents of a whole repository go through it on every
//! run, so it must run at memory speed. It guards against change, not against an adversary
//! (who cannot write the cache folder).

/// A 128-bit digest built from parts, 32 bytes at a time in four lanes.
#[derive(Clone)]
pub(crate) struct KeyHasher {
    a: u64,
    b: u64,
}

impl Default for KeyHasher {
    fn default() -> Self {
        KeyHasher { a: 0x243f_6a88_85a3_08d3, b: 0x1319_8a2e_0370_7344 }
    }
}

const K: [u64; 4] = [0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9, 0x85eb_ca77_c2b2_ae63];

impl KeyHasher {
    /// Adds one part; its length goes in too, so `("ab", "c")` and `("a", "bc")` differ.
    pub(crate) fn part(&mut self, bytes: &[u8]) {
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        // Four independent lanes over 32-byte blocks, folded in order.
        let mut lanes = [self.a, self.b, self.a ^ K[2], self.b ^ K[3]];
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            for (l, lane) in lanes.iter_mut().enumerate() {
                let x = word(&block[l * 8..l * 8 + 8]);
                *lane = (*lane ^ x).wrapping_mul(K[l]).rotate_left(29);
            }
        }
        for lane in lanes {
            self.word(lane);
        }
        let rest = blocks.remainder();
        let mut words = rest.chunks_exact(8);
        for c in &mut words {
            self.word(word(c));
        }
        let tail = words.remainder();
        let mut last = [0u8; 8];
        last[..tail.len()].copy_from_slice(tail);
        self.word(u64::from_le_bytes(last));
        self.word(bytes.len() as u64 ^ 0xa5a5_a5a5_a5a5_a5a5);
    }

    fn word(&mut self, x: u64) {
        self.a = (self.a ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31);
        self.b = (self.b.wrapping_add(x) ^ (self.a >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9).rotate_left(27);
    }

    pub(crate) fn finish(&self) -> String {
        let (a, b) = self.finish_words();
        format!("{a:016x}{b:016x}")
    }

    fn finish_words(&self) -> (u64, u64) {
        let mut a = self.a ^ (self.b >> 33);
        a = a.wrapping_mul(0xff51_afd7_ed55_8ccd) ^ (a >> 33);
        let mut b = self.b ^ (self.a >> 31);
        b = b.wrapping_mul(0xc4ce_b9fe_1a85_ec53) ^ (b >> 29);
        (a, b)
    }
}

/// A 64-bit digest of parts (`KeyHasher`'s first word), for what a look at the disk saw.
pub(crate) fn digest64(parts: &[&[u8]]) -> u64 {
    let mut h = KeyHasher::default();
    for p in parts {
        h.part(p);
    }
    h.finish_words().0
}
