// The check-in: look up the prompt, open the front camera, take one picture
// per pose of the challenge, get the location once, send, show the outcome.
// The server decides everything; this page only guides and reports.
'use strict';
(function () {
  var t = Lz.t, $ = Lz.$;
  var token = Lz.token();
  var info = null;
  var CODES = {
    invalid_token: 'js.invalid_token', token_used: 'js.token_used', token_expired: 'js.token_expired',
    no_tries_left: 'js.no_tries_left', not_enrolled: 'js.not_enrolled', invalid_image: 'js.invalid_image'
  };

  function poses() { return info.poses.length ? info.poses : ['center']; }

  function stepsInWords() {
    if (!info.poses.length) return t('js.pose_single');
    return info.poses.map(function (p) { return t('js.pose_' + p); }).join(t('js.then'));
  }

  function locate() {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject('js.location_failed'); return; }
      navigator.geolocation.getCurrentPosition(resolve, function (e) {
        reject(e.code === 1 ? 'js.location_denied' : 'js.location_failed');
      }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
    });
  }

  function countdown(pose) {
    var words = t('js.now_' + pose), n = 3;
    return new Promise(function (resolve) {
      (function tick() {
        if (n === 0) { resolve(); return; }
        $('pose').textContent = t('js.countdown', { pose: words, n: n });
        n -= 1;
        setTimeout(tick, 1000);
      })();
    });
  }

  function capture(video) {
    var list = poses(), frames = [];
    return list.reduce(function (p, pose, i) {
      return p.then(function () { return countdown(pose); })
        .then(function () { return Lz.grab(video); })
        .then(function (blob) {
          frames.push(blob);
          Lz.say('status', t('js.captured', { i: i + 1, n: list.length }));
        });
    }, Promise.resolve()).then(function () { return frames; });
  }

  // One attempt is one request key: resending after a lost answer gets the
  // stored result instead of spending another try.
  // The token goes in a header (and first in the form): the server checks it
  // before it reads the frames.
  function send(frames, pos, key) {
    var fd = new FormData();
    fd.append('token', token);
    frames.forEach(function (f, i) { fd.append('frame', f, 'frame' + i + '.jpg'); });
    fd.append('lat', String(pos.coords.latitude));
    fd.append('lon', String(pos.coords.longitude));
    fd.append('accuracy_m', String(pos.coords.accuracy));
    Lz.say('status', t('js.sending'));
    Lz.call('/api/v1/checkins', { method: 'POST', body: fd, headers: { 'Idempotency-Key': key, 'X-Lazaret-Token': token } })
      .then(function (res) {
        if (res.status === 200) { showOutcome(res.body); return; }
        var again = res.status === 0 || res.status >= 500 || (res.body && res.body.code === 'in_progress');
        finish(Lz.problem(res, CODES), again ? function () { send(frames, pos, key); } : null, 'js.send_again');
      });
  }

  function finish(text, retry, retryKey, kind) {
    Lz.say('status', '');
    Lz.show('intro', false);
    Lz.show('capture', false);
    Lz.say('outcome', text, kind || 'bad');
    Lz.show('result', true);
    var b = $('retry');
    b.hidden = !retry;
    if (retry) {
      b.textContent = t(retryKey);
      b.onclick = function () { b.hidden = true; retry(); };
    }
  }

  function showOutcome(r) {
    var ok = r.outcome === 'verified';
    $('outcome').setAttribute('data-outcome', r.outcome);
    if (ok) {
      $('next').textContent = '';
      finish(t('js.out.' + r.outcome), null, null, 'good');
      Lz.show('fallback', false);
    } else if (r.tries_left > 0) {
      $('next').textContent = t('js.tries_left', { n: r.tries_left });
      finish(t('js.out.' + r.outcome), start, 'js.retry');
    } else {
      $('next').textContent = t('js.no_tries');
      finish(t('js.out.' + r.outcome), null);
      Lz.show('fallback', false);
    }
  }

  function fail(key) {
    Lz.say('status', t(key), 'bad');
    $('start').disabled = false;
    Lz.show('capture', false);
    Lz.show('intro', true);
  }

  function start() {
    Lz.show('result', false);
    Lz.show('intro', true);
    $('start').disabled = true;
    Lz.say('status', t('js.asking'));
    var where = locate();
    where.catch(function () {});
    var video = $('video'), stream = null;
    Lz.openCamera(video).then(function (s) {
      stream = s;
      Lz.show('intro', false);
      Lz.show('capture', true);
      Lz.say('status', '');
      return capture(video);
    }, function (e) {
      throw (e && e.name === 'NotAllowedError') ? 'js.camera_denied' : 'js.camera_missing';
    }).then(function (frames) {
      Lz.stopStream(stream);
      $('pose').textContent = '';
      return where.then(function (pos) { send(frames, pos, Lz.randomKey()); });
    }).catch(function (key) {
      Lz.stopStream(stream);
      fail(typeof key === 'string' ? key : 'js.camera_missing');
    }).then(function () { $('start').disabled = false; });
  }

  // Without a camera, one photo from the phone's camera app is enough when
  // the prompt asks for one frame; the server verifies it like any other.
  function sendFile() {
    var f = $('file').files[0];
    if (!f) return;
    $('file-send').disabled = true;
    locate().then(function (pos) { send([f], pos, Lz.randomKey()); }, fail)
      .then(function () { $('file-send').disabled = false; });
  }

  if (!token) { Lz.say('status', t('js.no_token'), 'bad'); return; }
  Lz.say('status', t('js.loading'));
  Lz.postJson('/api/v1/checkins/prompt', { token: token }).then(function (res) {
    if (res.status !== 200) { Lz.say('status', Lz.problem(res, CODES), 'bad'); return; }
    info = res.body;
    // Open in the person's language unless they chose one.
    if (Lz.followLanguage(info.language)) return;
    Lz.say('status', '');
    var time = new Date(info.deadline).toLocaleTimeString(Lz.locale, { hour: '2-digit', minute: '2-digit' });
    $('when').textContent = t('js.deadline', { time: time }) + ' ' + t('js.tries_left', { n: info.tries_left });
    $('steps').textContent = t('js.steps', { steps: stepsInWords() });
    $('start').onclick = start;
    $('file-send').onclick = sendFile;
    Lz.show('intro', true);
    Lz.show('fallback', info.frames === 1);
  });
})();
