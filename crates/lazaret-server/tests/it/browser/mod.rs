//! A small W3C WebDriver client for driving headless Chromium through
//! chromedriver: sessions (a phone with a fake camera, or a laptop or
//! tablet window), navigation, scripts, keys, file inputs, screenshots and
//! Chrome DevTools commands (geolocation, permissions); `axe` runs the
//! axe-core accessibility check in a page.

pub mod axe;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{json, Value};

/// The WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver and the browser: `LAZARET_CHROMEDRIVER` / `LAZARET_CHROMIUM`,
/// else from `PATH`.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
    let driver = env("LAZARET_CHROMEDRIVER").or_else(|| on_path(&["chromedriver"]))?;
    let browser = env("LAZARET_CHROMIUM")
        .or_else(|| on_path(&["chromium", "chromium-browser", "google-chrome"]))?;
    Some((driver, browser))
}

pub struct Chromedriver {
    child: Child,
    base: String,
    browser: PathBuf,
    http: Client,
}

impl Chromedriver {
    /// Starts chromedriver, or returns None when it or the browser is not
    /// installed — except under CI, where a missing browser fails the test.
    pub async fn start() -> Option<Chromedriver> {
        let Some((driver, browser)) = tools() else {
            if std::env::var_os("CI").is_some() {
                panic!("CI: chromium and chromedriver are required (scripts/test installs them)");
            }
            eprintln!("SKIPPED: chromium/chromedriver not found; run scripts/test to install them");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", driver.display()));
        let d = Chromedriver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            browser,
            http: Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = d
                .http
                .get(format!("{}/status", d.base))
                .send()
                .await
                .ok()
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                return Some(d);
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A fresh headless browser on a phone-sized window whose camera plays
    /// `video` (MJPEG) and which grants camera access without asking.
    pub async fn session(&self, video: &Path, accept_language: &str) -> Session<'_> {
        let args = vec![
            "--window-size=412,915".to_owned(),
            "--use-fake-ui-for-media-stream".to_owned(),
            "--use-fake-device-for-media-stream".to_owned(),
            format!("--use-file-for-fake-video-capture={}", video.display()),
        ];
        self.open(args, accept_language).await
    }

    /// A fresh headless browser whose page area is exactly `window` (a
    /// laptop's or a tablet's for the officers' console, a phone's for the
    /// person's pages without a camera).
    pub async fn window_session(&self, window: Window, accept_language: &str) -> Session<'_> {
        let args = vec![format!("--window-size={},{}", window.width, window.height)];
        let s = self.open(args, accept_language).await;
        s.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": window.width, "height": window.height, "deviceScaleFactor": 1,
                    "mobile": window.width < 600 }),
        )
        .await;
        s
    }

    async fn open(&self, extra: Vec<String>, accept_language: &str) -> Session<'_> {
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
        ];
        args.extend(extra);
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "goog:chromeOptions": {
                "binary": self.browser,
                "args": args,
                "prefs": { "intl.accept_languages": accept_language },
            }
        }}});
        let r = self
            .http
            .post(format!("{}/session", self.base))
            .json(&caps)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        let s = Session { d: self, id };
        // Record CSP violations from the first script on.
        s.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": "window.__csp = []; document.addEventListener('securitypolicyviolation', function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });" }),
        )
        .await;
        s
    }
}

/// A browser window's page area.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub width: u32,
    pub height: u32,
}

/// A common laptop screen.
pub const LAPTOP: Window = Window {
    width: 1366,
    height: 768,
};

/// A phone held upright (iPhone 12 to 15).
pub const PHONE: Window = Window {
    width: 390,
    height: 844,
};

/// A tablet held upright (iPad Air).
pub const TABLET: Window = Window {
    width: 820,
    height: 1180,
};

/// Where screenshots go: `target/console-screenshots/` (beside the build's
/// `tmp`), kept as test artifacts.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("console-screenshots")
}

impl Drop for Chromedriver {
    /// Asks chromedriver to shut down, which also closes the browsers of
    /// sessions a failed test left open, then makes sure it is gone.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        if let Ok(mut c) = std::net::TcpStream::connect(addr) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = c.write_all(
                format!("GET /shutdown HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
            let _ = c.read_to_end(&mut Vec::new());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Session<'a> {
    d: &'a Chromedriver,
    id: String,
}

impl Session<'_> {
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.d.base, self.id);
        let mut r = self.d.http.request(method, &url);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let ok = resp.status().is_success();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(ok, "{url}: {v}");
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// A Chrome DevTools Protocol command.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd(
            Method::POST,
            "/goog/cdp/execute",
            Some(json!({ "cmd": cmd, "params": params })),
        )
        .await
    }

    /// Grants geolocation and places the phone at `lat`, `lon`.
    pub async fn set_location(&self, lat: f64, lon: f64, accuracy_m: f64) {
        self.cdp(
            "Browser.grantPermissions",
            json!({ "permissions": ["geolocation"] }),
        )
        .await;
        self.cdp(
            "Emulation.setGeolocationOverride",
            json!({ "latitude": lat, "longitude": lon, "accuracy": accuracy_m }),
        )
        .await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`).
    pub async fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Polls `script` until it returns something other than null or false;
    /// on timeout fails with what the page shows.
    pub async fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.exec(script, json!([])).await;
            if !v.is_null() && v != Value::Bool(false) {
                return v;
            }
            if Instant::now() > deadline {
                let shown = self.exec("return document.body.innerText", json!([])).await;
                panic!("timed out waiting for {what}; the page shows:\n{shown}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The visible text of the element `css` once it is shown and not empty.
    pub async fn text_of(&self, css: &str, timeout: Duration) -> String {
        let script = format!(
            "var e = document.querySelector({css:?}); return e && !e.closest('[hidden]') && e.innerText.trim() ? e.innerText.trim() : null;"
        );
        self.wait_for(css, &script, timeout)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn click(&self, css: &str) {
        let e = self.element(css).await;
        self.cmd(
            Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Chooses `file` in the file input `css`.
    pub async fn upload(&self, css: &str, file: &Path) {
        let e = self.element(css).await;
        self.cmd(
            Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": file.display().to_string() })),
        )
        .await;
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .cmd(
                Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    /// Checks that the page loaded nothing from another origin and broke no
    /// rule of its Content-Security-Policy.
    pub async fn assert_self_contained(&self) {
        let v = self
            .exec(
                "return { foreign: performance.getEntriesByType('resource').map(function (e) { return e.name; }).filter(function (n) { return n.indexOf(location.origin) !== 0; }), csp: window.__csp || [] };",
                json!([]),
            )
            .await;
        assert_eq!(v["foreign"], json!([]), "requests to other origins");
        assert_eq!(v["csp"], json!([]), "CSP violations");
    }

    /// Runs `script` that calls its last argument with its answer (an async script).
    pub async fn exec_async(&self, script: &str, args: Value) -> Value {
        self.cmd(
            Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Types `text` into the element `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css).await;
        self.cmd(
            Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Presses and releases `key` on whatever has the focus (a shortcut).
    pub async fn press(&self, key: &str) {
        self.cmd(
            Method::POST,
            "/actions",
            Some(
                json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                    { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }
                ]}]}),
            ),
        )
        .await;
    }

    /// Saves the whole page (not only the window) as `<dir>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine as _;
        // The document's own size: wider than the window only if it overflows.
        let size = self
            .exec(
                "var e = document.documentElement; return [Math.max(e.scrollWidth, innerWidth), e.scrollHeight];",
                json!([]),
            )
            .await;
        let (w, h) = (
            size[0].as_f64().unwrap_or(800.0),
            size[1].as_f64().unwrap_or(600.0),
        );
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": w, "height": h, "scale": 1 } }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("a screenshot"))
            .unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn quit(self) {
        self.cmd(Method::DELETE, "", None).await;
    }
}
