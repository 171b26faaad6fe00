//! A lossless transform of the model payload for the wire: the `.ort`'s bytes regrouped into
//! four planes (byte 0 of every 4-byte word, then byte 1, 2, 3; a tail shorter than a word stays
//! at the end). The weights of most models are float32, 4-byte aligned in the flatbuffer: their
//! sign-and-exponent bytes then sit side by side, which brotli compresses much better than
//! interleaved with the mantissas. The bundle's loader rejoins the planes after the download
//! (`join` in `loader.mjs`); the values never change.

/// Bytes per word.
pub const STRIDE: usize = 4;

/// `bytes` as planes.
pub fn split(bytes: &[u8]) -> Vec<u8> {
    let words = bytes.len() / STRIDE;
    let mut out = Vec::with_capacity(bytes.len());
    for plane in 0..STRIDE {
        out.extend((0..words).map(|w| bytes[w * STRIDE + plane]));
    }
    out.extend_from_slice(&bytes[words * STRIDE..]);
    out
}

/// Whether shipping `split` (the planes of `bytes`) instead of `bytes` saves at least 1 % of
/// the brotli bytes, judged at brotli quality 5 (a fraction of a second for megabytes; on the
/// models measured it ranks the two as quality 10 and 11 do).
pub fn pays_off(bytes: &[u8], split: &[u8]) -> bool {
    let plain = crate::outputs::brotli_at(bytes, 5).len();
    let planes = crate::outputs::brotli_at(split, 5).len();
    planes * 100 < plain * 99
}

/// The inverse of [`split`].
#[cfg(test)]
pub fn join(planes: &[u8]) -> Vec<u8> {
    let words = planes.len() / STRIDE;
    let mut out = vec![0u8; planes.len()];
    for plane in 0..STRIDE {
        for w in 0..words {
            out[w * STRIDE + plane] = planes[plane * words + w];
        }
    }
    out[words * STRIDE..].copy_from_slice(&planes[words * STRIDE..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join_round_trip_any_length() {
        for len in [0, 1, 3, 4, 5, 8, 1001] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let planes = split(&bytes);
            assert_eq!(planes.len(), len);
            assert_eq!(join(&planes), bytes, "len {len}");
        }
        assert_eq!(
            split(&[1, 2, 3, 4, 5, 6, 7, 8, 9]),
            [1, 5, 2, 6, 3, 7, 4, 8, 9]
        );
    }
}
