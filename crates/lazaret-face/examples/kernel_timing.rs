//! Throughput of the convolution kernels on the networks' layer shapes, in GMAC/s (best of
//! several rounds), on the kernel path the process chose (or `LAZARET_FACE_ISA`).
//!
//! `cargo run --release -p lazaret-face --example kernel_timing`

use std::time::Instant;

use lazaret_face::conv_gemm::{
    conv1x1, conv3x3_same, conv3x3_valid_plain, Epilogue, Map, PackedConv,
};
use lazaret_face::winograd::WinogradConv;

fn pseudo(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 7919 + seed * 104729) % 1013) as f32 - 506.0) / 700.0)
        .collect()
}

fn best(macs: f64, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let reps = 20;
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    macs / best / 1e9
}

fn main() {
    println!(
        "kernel path: {}",
        lazaret_face::simd::choice().expect("kernel path")
    );
    let ones = |n: usize| vec![1f32; n];
    {
        // The detector's first layer at input 320 (3 → 16 channels, "valid").
        let size = 320;
        let x = pseudo(3 * size * size, 1);
        let w = PackedConv::from_tf(&pseudo(9 * 3 * 16, 2), 3, 3, 16, &ones(16), &pseudo(16, 3));
        let conv = size - 2;
        let g = best((9 * 3 * 16 * conv * conv) as f64, || {
            std::hint::black_box(conv3x3_valid_plain(x.clone(), size, &w, Epilogue::IDENTITY));
        });
        println!("3x3   3->16  {size}x{size} valid  {g:6.1} GMAC/s");
    }
    for (cin, cout, h) in [
        (16, 32, 159),
        (32, 64, 80),
        (128, 256, 20),
        (256, 512, 10),
        (32, 32, 56),
        (64, 64, 28),
        (128, 128, 14),
        (64, 128, 14),
    ] {
        let x = Map::from_plain(cin, h, h, &pseudo(cin * h * h, 1));
        let w = PackedConv::from_tf(
            &pseudo(cin * cout, 2),
            1,
            cin,
            cout,
            &ones(cout),
            &pseudo(cout, 3),
        );
        let g = best((cin * cout * h * h) as f64, || {
            std::hint::black_box(conv1x1(&x, &w, Epilogue::RELU));
        });
        println!("1x1 {cin:>3}->{cout:<3} {h:>3}x{h:<3}  {g:6.1} GMAC/s");
    }
    for (c, h) in [(32, 35), (64, 17), (128, 8), (256, 3), (256, 4), (256, 1)] {
        let x = Map::from_plain(c, h, h, &pseudo(c * h * h, 1));
        let f = pseudo(9 * c * c, 2);
        let w = PackedConv::from_tf(&f, 3, c, c, &ones(c), &pseudo(c, 3));
        let wino = WinogradConv::from_tf(&f, c, c, &ones(c), &pseudo(c, 3));
        let macs = (9 * c * c * h * h) as f64;
        let direct = best(macs, || {
            std::hint::black_box(conv3x3_same(&x, &w, Epilogue::RELU));
        });
        let wg = best(macs, || {
            std::hint::black_box(wino.run(&x, Epilogue::RELU));
        });
        println!("3x3 {c:>3}->{c:<3} {h:>3}x{h:<3}  direct {direct:6.1}  winograd {wg:6.1} (direct-equivalent GMAC/s)");
    }
}
