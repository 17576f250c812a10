//! Tests of the paths that reuse an operand instead of packing it per block: B packed once
//! for many products (`PackedB`) and A read in place by narrow products. Helpers from `mod.rs`.

use super::*;

/// `PackedB::gemm_serial` on B packed once equals `gemm_serial` on the unpacked B, for every
/// ISA, awkward shapes, strided and transposed operands, several products sharing one packed B,
/// and alpha/beta variants (exact inputs, so every summation order gives the same bits).
fn packed_b_case<T: Num>() {
    for (m, n, k) in [
        (1, 1, 1),
        (3, 17, 5),
        (17, 33, 300),
        (65, 64, 257),
        (230, 288, 64),
        (9, 70, 520),
    ] {
        for lays in [
            [Lay::Row, Lay::Row, Lay::Row],
            [Lay::Strided, Lay::Col, Lay::Padded],
            [Lay::Col, Lay::Reversed, Lay::Row],
        ] {
            let mut rng = Rng((m * 131 + n * 7 + k) as u64 | 1);
            let b = Mat::<T>::new(k, n, lays[1], &mut || rng.quarter());
            let packed = unsafe { PackedB::new(b.as_ref(), k, n) };
            for (rows, alpha, beta) in [(m, 1.0, 0.0), (m.div_ceil(2), -0.5, 1.0), (m, 2.0, 0.25)] {
                let a = Mat::<T>::new(rows, k, lays[0], &mut || rng.quarter());
                let mut c = Mat::<T>::new(rows, n, lays[2], &mut || rng.quarter());
                let mut c_ref = c.clone();
                let (al, be) = (T::from_f64(alpha), T::from_f64(beta));
                unsafe {
                    packed.gemm_serial(rows, al, a.as_ref(), be, c.as_mut());
                    gemm_serial(&GemmParams {
                        m: rows,
                        n,
                        k,
                        alpha: al,
                        beta: be,
                        a: a.as_ref(),
                        b: b.as_ref(),
                        c: c_ref.as_mut(),
                        a_offsets: &[0],
                        b_offsets: &[0],
                        c_offsets: &[0],
                    });
                }
                let pick = |mat: &Mat<T>| -> Vec<T> {
                    (0..rows)
                        .flat_map(|i| (0..n).map(move |j| (i, j)))
                        .map(|(i, j)| mat.get(i, j))
                        .collect()
                };
                assert_eq!(
                    bits(&pick(&c)),
                    bits(&pick(&c_ref)),
                    "m={rows} n={n} k={k} {lays:?} alpha={alpha} beta={beta} isa={:?}",
                    isa::active()
                );
            }
        }
    }
}

#[test]
fn packed_b_matches_serial_gemm_bit_for_bit() {
    for_each_isa(|| {
        packed_b_case::<f32>();
        packed_b_case::<f64>();
    });
}

/// Narrow products (n <= 4*nr) read A in place (`loops::read_a_in_place`) for row- or
/// column-contiguous A, packing only the ragged last panel of each block: every ISA, A in every
/// layout (including negative row strides), m across several `mc` blocks with ragged ends, k
/// across `kc` blocks, beta 0 and 1, against the exact reference.
#[test]
fn narrow_products_read_a_in_place() {
    for_each_isa(|| {
        for (m, n, k) in [
            (8, 1, 1),
            (9, 17, 255),
            (150, 32, 257),
            (301, 33, 64),
            (1001, 64, 600),
            (77, 48, 3),
            (130, 128, 300),
        ] {
            for la in [Lay::Row, Lay::Col, Lay::Padded, Lay::Reversed, Lay::Strided] {
                for beta in [0.0, 1.0] {
                    check::<f32>(m, n, k, [la, Lay::Row, Lay::Row], 1.0, beta, true);
                    check::<f64>(m, n, k, [la, Lay::Col, Lay::Padded], -0.5, beta, true);
                }
            }
        }
    });
}
