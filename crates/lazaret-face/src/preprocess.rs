//! Turning image regions into network inputs, exactly as face-api.js does: pad to a square
//! (at the bottom/right, or centred), bilinear resize (TF semantics: align_corners = false,
//! half_pixel_centers = false, computed in f64 and stored as f32), then `(v − mean) / 255`
//! in f32, laid out NCHW.

/// A read-only view of a rectangular region of an 8-bit RGB buffer.
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    data: &'a [u8],
    stride: usize,
    x0: usize,
    y0: usize,
    pub width: usize,
    pub height: usize,
}

impl<'a> RgbView<'a> {
    /// The whole image. `data` is row-major `height × width × 3`.
    pub fn new(data: &'a [u8], width: usize, height: usize) -> Self {
        assert_eq!(data.len(), width * height * 3, "rgb buffer size");
        RgbView {
            data,
            stride: width,
            x0: 0,
            y0: 0,
            width,
            height,
        }
    }

    /// A sub-rectangle (must lie inside this view).
    pub fn crop(&self, x: usize, y: usize, width: usize, height: usize) -> Self {
        assert!(
            x + width <= self.width && y + height <= self.height,
            "crop inside view"
        );
        RgbView {
            data: self.data,
            stride: self.stride,
            x0: self.x0 + x,
            y0: self.y0 + y,
            width,
            height,
        }
    }

    /// Row `y` of the view: `width × 3` values.
    #[inline]
    pub fn row(&self, y: usize) -> &'a [u8] {
        let start = ((self.y0 + y) * self.stride + self.x0) * 3;
        &self.data[start..start + self.width * 3]
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize, c: usize) -> u8 {
        self.data[((self.y0 + y) * self.stride + self.x0 + x) * 3 + c]
    }
}

/// Where the zero padding goes when making the region square.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SquarePad {
    /// All padding after the image (detector).
    BottomRight,
    /// Split, the odd pixel after (landmark and recognition nets).
    Centered,
}

/// Pads `view` to a square and resizes it to `size × size`; returns HWC f32 values in 0..=255.
pub fn square_resize(view: &RgbView<'_>, pad: SquarePad, size: usize) -> Vec<f32> {
    let (w, h) = (view.width, view.height);
    let side = w.max(h);
    let diff = side - w.min(h);
    let before = match pad {
        SquarePad::BottomRight => 0,
        // JS: append round(diff/2) (0.5 rounds up), prepend the rest.
        SquarePad::Centered => diff - (diff as f64 * 0.5).round() as usize,
    };
    let (left, top) = if w < h { (before, 0) } else { (0, before) };
    let ratio = side as f64 / size as f64;
    // Source taps per output coordinate in the padded square: (lo, hi, frac); a tap that
    // falls in the padding maps to None (value 0).
    let taps = |o: usize, offset: usize, len: usize| {
        let f = ratio * o as f64;
        let lo = f.floor().max(0.0);
        let frac = f - lo;
        let hi = (f.ceil() as usize).min(side - 1);
        let map = |p: usize| (p >= offset && p - offset < len).then(|| p - offset);
        (map(lo as usize), map(hi), frac)
    };
    let cols: Vec<_> = (0..size).map(|o| taps(o, left, w)).collect();
    let rows: Vec<_> = (0..size).map(|o| taps(o, top, h)).collect();
    let stride = view.stride * 3;
    let base = (view.y0 * view.stride + view.x0) * 3;
    let row_slice =
        |y: Option<usize>| y.map(|y| &view.data[base + y * stride..base + y * stride + w * 3]);
    let mut out = vec![0f32; size * size * 3];
    for (r, &(y0, y1, fy)) in rows.iter().enumerate() {
        let (top_row, bottom_row) = (row_slice(y0), row_slice(y1));
        let line = &mut out[r * size * 3..(r + 1) * size * 3];
        for (c, &(x0, x1, fx)) in cols.iter().enumerate() {
            let get = |row: Option<&[u8]>, x: Option<usize>, ch: usize| -> f64 {
                match (row, x) {
                    (Some(row), Some(x)) => row[x * 3 + ch] as f64,
                    _ => 0.0,
                }
            };
            for ch in 0..3 {
                let tl = get(top_row, x0, ch);
                let tr = get(top_row, x1, ch);
                let bl = get(bottom_row, x0, ch);
                let br = get(bottom_row, x1, ch);
                let top = tl + (tr - tl) * fx;
                let bottom = bl + (br - bl) * fx;
                line[c * 3 + ch] = (top + (bottom - top) * fy) as f32;
            }
        }
    }
    out
}

/// [`square_resize`] followed by [`normalize_nchw`], bit for bit, in one pass: each source
/// row is interpolated horizontally once (not once per output row that uses it), and
/// values go straight to their NCHW place.
pub fn square_resize_normalized(
    view: &RgbView<'_>,
    pad: SquarePad,
    size: usize,
    mean: [f32; 3],
) -> Vec<f32> {
    let (w, h) = (view.width, view.height);
    let side = w.max(h);
    let diff = side - w.min(h);
    let before = match pad {
        SquarePad::BottomRight => 0,
        SquarePad::Centered => diff - (diff as f64 * 0.5).round() as usize,
    };
    let (left, top) = if w < h { (before, 0) } else { (0, before) };
    let ratio = side as f64 / size as f64;
    let taps = |o: usize, offset: usize, len: usize| {
        let f = ratio * o as f64;
        let lo = f.floor().max(0.0);
        let frac = f - lo;
        let hi = (f.ceil() as usize).min(side - 1);
        let map = |p: usize| (p >= offset && p - offset < len).then(|| p - offset);
        (map(lo as usize), map(hi), frac)
    };
    // Each output column's two source pixels as offsets into a row extended by one black
    // pixel (index `w`: the padding), and its weight.
    let cols: Vec<(usize, usize, f64)> = (0..size)
        .map(|o| {
            let (x0, x1, fx) = taps(o, left, w);
            (3 * x0.unwrap_or(w), 3 * x1.unwrap_or(w), fx)
        })
        .collect();
    let mut padded = vec![0u8; (w + 1) * 3];
    // Horizontal pass of source row `y` (None: padding, all zeros), planar f64 (channel
    // `ch` at `ch · size`), so that the vertical pass runs over contiguous values.
    let mut hpass = |y: Option<usize>, line: &mut Vec<f64>| {
        line.clear();
        line.resize(size * 3, 0.0);
        if let Some(y) = y {
            padded[..w * 3].copy_from_slice(view.row(y));
            let row = &padded[..];
            for (ch, dst) in line.chunks_exact_mut(size).enumerate() {
                for (d, &(x0, x1, fx)) in dst.iter_mut().zip(&cols) {
                    let (l, r) = (row[x0 + ch] as f64, row[x1 + ch] as f64);
                    *d = l + (r - l) * fx;
                }
            }
        }
    };
    let plane = size * size;
    let mut out = vec![0f32; plane * 3];
    // Cache of the last two horizontally interpolated source rows: (source row, values).
    type Cached = (Option<Option<usize>>, Vec<f64>);
    let mut cache: [Cached; 2] = [(None, Vec::new()), (None, Vec::new())];
    // Slot holding row `y`, filling slot `spare` when it is not cached.
    let mut fetch = |cache: &mut [Cached; 2], y: Option<usize>, spare: usize| -> usize {
        if let Some(i) = cache.iter().position(|(k, _)| *k == Some(y)) {
            return i;
        }
        hpass(y, &mut cache[spare].1);
        cache[spare].0 = Some(y);
        spare
    };
    for r in 0..size {
        let (y0, y1, fy) = taps(r, top, h);
        let i0 = fetch(&mut cache, y0, 0);
        let i1 = fetch(&mut cache, y1, 1 - i0);
        // The second fetch never evicts the first row: it fills the other slot.
        let (t, b) = (&cache[i0].1, &cache[i1].1);
        for ch in 0..3 {
            let (t, b) = (&t[ch * size..][..size], &b[ch * size..][..size]);
            let dst = &mut out[ch * plane + r * size..][..size];
            let m = mean[ch];
            for ((d, &tv), &bv) in dst.iter_mut().zip(t).zip(b) {
                let v = (tv + (bv - tv) * fy) as f32;
                *d = (v - m) / 255.0;
            }
        }
    }
    out
}

/// HWC values -> NCHW `(v − mean) / 255`, in f32 like TF.js.
pub fn normalize_nchw(hwc: &[f32], size: usize, mean: [f32; 3]) -> Vec<f32> {
    let plane = size * size;
    let mut out = vec![0f32; plane * 3];
    for i in 0..plane {
        for c in 0..3 {
            out[c * plane + i] = (hwc[i * 3 + c] - mean[c]) / 255.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_when_already_square_and_sized() {
        let data: Vec<u8> = (0..4 * 4 * 3).map(|v| v as u8).collect();
        let v = RgbView::new(&data, 4, 4);
        let out = square_resize(&v, SquarePad::Centered, 4);
        assert_eq!(out, data.iter().map(|&b| b as f32).collect::<Vec<_>>());
    }

    #[test]
    fn centered_padding_puts_odd_pixel_after() {
        // 1 wide, 4 high: diff 3 -> 1 column before, 2 after.
        let data = vec![255u8; 4 * 3];
        let v = RgbView::new(&data, 1, 4);
        let out = square_resize(&v, SquarePad::Centered, 4);
        let col = |x: usize| out[x * 3];
        assert_eq!((col(0), col(1), col(2), col(3)), (0.0, 255.0, 0.0, 0.0));
        let out = square_resize(&v, SquarePad::BottomRight, 4);
        assert_eq!(out[0], 255.0);
        assert_eq!(out[3], 0.0);
    }

    #[test]
    fn fused_resize_normalize_is_bit_identical() {
        let (w, h) = (37, 23);
        let data: Vec<u8> = (0..w * h * 3).map(|v| (v * 97 % 256) as u8).collect();
        let img = RgbView::new(&data, w, h);
        let mean = [122.782, 117.001, 104.298];
        for view in [img, img.crop(3, 2, 20, 19), img.crop(0, 5, 11, 18)] {
            for pad in [SquarePad::BottomRight, SquarePad::Centered] {
                for size in [7, 32, 112, 150] {
                    let want = normalize_nchw(&square_resize(&view, pad, size), size, mean);
                    let got = square_resize_normalized(&view, pad, size, mean);
                    assert_eq!(got, want, "{}x{} {pad:?} {size}", view.width, view.height);
                }
            }
        }
    }

    #[test]
    fn downscale_samples_at_dest_times_ratio() {
        // 4x4 -> 2x2 with ratio 2: samples source pixels (0,0), (2,0), ... exactly.
        let data: Vec<u8> = (0..16).flat_map(|v| [v as u8; 3]).collect();
        let v = RgbView::new(&data, 4, 4);
        let out = square_resize(&v, SquarePad::BottomRight, 2);
        assert_eq!([out[0], out[3], out[6], out[9]], [0.0, 2.0, 8.0, 10.0]);
    }
}
