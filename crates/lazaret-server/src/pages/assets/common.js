// Shared helpers for the person's pages: texts, the token from the URL
// fragment (never sent to the server in a URL), status messages, JSON calls.
'use strict';
var Lz = (function () {
  var msgs = JSON.parse(document.getElementById('msgs').textContent);

  function t(key, vars) {
    var s = msgs[key] || key;
    if (vars) {
      Object.keys(vars).forEach(function (k) { s = s.split('{' + k + '}').join(String(vars[k])); });
    }
    return s;
  }

  function token() {
    var m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : '';
  }

  function $(id) { return document.getElementById(id); }

  function show(id, on) { $(id).hidden = !on; }

  // kind: '' (neutral), 'good' or 'bad'.
  function say(id, text, kind) {
    var el = $(id);
    el.textContent = text;
    el.className = el.className.replace(/\b(good|bad)\b/g, '').trim() + (kind ? ' ' + kind : '');
  }

  // Keep the fragment (the token) when switching language, and on the
  // link to the person's own data (with the language if one was chosen).
  function keepHashOnLinks() {
    var links = document.querySelectorAll('.langs a');
    for (var i = 0; i < links.length; i++) {
      links[i].href = links[i].getAttribute('href').split('#')[0] + location.hash;
    }
    var mine = document.getElementById('my-data-link');
    if (mine) mine.href = '/my-data' + location.search + location.hash;
  }

  // Resolves to {status, body}; status 0 means the network failed.
  function call(path, init) {
    init = init || {};
    init.credentials = 'omit';
    init.cache = 'no-store';
    init.referrerPolicy = 'no-referrer';
    return fetch(path, init).then(function (r) {
      return r.json().then(function (b) { return { status: r.status, body: b }; },
        function () { return { status: r.status, body: null }; });
    }, function () { return { status: 0, body: null }; });
  }

  function postJson(path, obj) {
    return call(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(obj) });
  }

  // A message for a failed call; `codes` maps problem codes to text keys.
  function problem(res, codes) {
    if (res.status === 0) return t('js.network');
    var code = res.body && res.body.code;
    if (code && codes && codes[code]) return t(codes[code], { detail: res.body.detail || '' });
    if (res.status === 401) return t('js.invalid_token');
    if (res.status === 413) return t('js.too_large');
    if (res.status === 503) return t('js.unavailable');
    return t('js.server');
  }

  // Reopens the page in the person's stored language unless they chose one
  // (`?lang=`) or it is already shown or not offered; true when it does.
  function followLanguage(language) {
    if (/[?&]lang=/.test(location.search) || !language || language === document.documentElement.lang ||
        !document.querySelector('.langs a[hreflang="' + language + '"]')) {
      return false;
    }
    location.replace('?lang=' + language + location.hash);
    return true;
  }

  // Asks `path` for the language of the person a token belongs to and
  // reopens the page in it; `then` runs when the page stays.
  function openInPersonsLanguage(path, tok, then) {
    postJson(path, { token: tok }).then(function (res) {
      if (res.status === 200 && res.body && followLanguage(res.body.language)) return;
      then();
    });
  }

  function randomKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function stopStream(stream) {
    if (stream) stream.getTracks().forEach(function (tr) { tr.stop(); });
  }

  // One JPEG of the video's current picture, at most 640 px on the long side.
  function grab(video) {
    var w = video.videoWidth, h = video.videoHeight, s = Math.min(1, 640 / Math.max(w, h));
    var c = document.createElement('canvas');
    c.width = Math.round(w * s);
    c.height = Math.round(h * s);
    c.getContext('2d').drawImage(video, 0, 0, c.width, c.height);
    return new Promise(function (resolve) { c.toBlob(resolve, 'image/jpeg', 0.88); });
  }

  function openCamera(video) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error('no camera API (needs https)'));
    }
    return navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } }
    }).then(function (stream) {
      video.srcObject = stream;
      return new Promise(function (resolve) {
        function ready() { if (video.videoWidth > 0) resolve(stream); else setTimeout(ready, 50); }
        video.play().catch(function () {});
        ready();
      });
    });
  }

  // Dates and numbers in the page's language; Arabic with Western digits,
  // as phone numbers, links and codes in the messages are written.
  var lang = document.documentElement.lang;
  var locale = lang === 'ar' ? 'ar-u-nu-latn' : lang;

  keepHashOnLinks();
  return {
    t: t, token: token, $: $, show: show, say: say, call: call, postJson: postJson,
    problem: problem, followLanguage: followLanguage, openInPersonsLanguage: openInPersonsLanguage,
    randomKey: randomKey, grab: grab, openCamera: openCamera, stopStream: stopStream,
    lang: lang, locale: locale
  };
})();
