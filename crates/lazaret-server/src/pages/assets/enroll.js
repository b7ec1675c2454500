// Self-enrolment: one photo from the camera or a file, sent with the link's
// token; the server checks the face and keeps it pending for an officer.
'use strict';
(function () {
  var t = Lz.t, $ = Lz.$;
  var token = Lz.token();
  var photo = null, stream = null, url = null;
  var CODES = {
    invalid_token: 'js.invalid_token', token_used: 'js.enr_used', token_expired: 'js.enr_expired',
    token_revoked: 'js.enr_revoked', illegal_transition: 'js.enr_ended', no_face: 'js.enr_no_face',
    multiple_faces: 'js.enr_multiple_faces', low_quality: 'js.enr_low_quality', invalid_image: 'js.enr_invalid_image'
  };
  var FINAL = ['invalid_token', 'token_used', 'token_expired', 'token_revoked', 'illegal_transition'];

  function preview(blob) {
    photo = blob;
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(blob);
    $('preview').src = url;
    Lz.show('preview', true);
    Lz.say('status', t('js.enr_taken'));
  }

  $('camera').onclick = function () {
    Lz.openCamera($('video')).then(function (s) {
      stream = s;
      Lz.show('capture', true);
      Lz.show('preview', false);
      Lz.say('status', '');
    }, function (e) {
      Lz.say('status', t(e && e.name === 'NotAllowedError' ? 'js.camera_denied' : 'js.camera_missing'), 'bad');
    });
  };
  $('take').onclick = function () {
    Lz.grab($('video')).then(function (b) {
      Lz.stopStream(stream);
      Lz.show('capture', false);
      preview(b);
    });
  };
  $('file').onchange = function () { if ($('file').files[0]) preview($('file').files[0]); };

  $('send').onclick = function () {
    if (!photo) { Lz.say('status', t('js.enr_pick'), 'bad'); return; }
    var fd = new FormData();
    fd.append('token', token);
    fd.append('photo', photo, 'photo.jpg');
    $('send').disabled = true;
    Lz.say('status', t('js.sending'));
    // The token in a header too: the server checks it before reading the photo.
    Lz.call('/api/v1/enrollment', { method: 'POST', body: fd, headers: { 'X-Lazaret-Token': token } }).then(function (res) {
      $('send').disabled = false;
      var code = res.body && res.body.code;
      if (res.status === 202) { done(t('js.enr_done'), 'good', 'pending'); return; }
      if (FINAL.indexOf(code) >= 0) { done(Lz.problem(res, CODES), 'bad', code); return; }
      // A refused photo leaves the link open: take another.
      Lz.say('status', Lz.problem(res, CODES), 'bad');
    });
  };

  function done(text, kind, state) {
    Lz.stopStream(stream);
    Lz.say('status', '');
    Lz.show('form', false);
    $('outcome').setAttribute('data-state', state);
    Lz.say('outcome', text, kind);
    Lz.show('result', true);
  }

  if (!token) { Lz.say('status', t('js.no_token'), 'bad'); return; }
  // Open in the person's language unless they chose one.
  Lz.openInPersonsLanguage('/api/v1/enrollment/link', token, function () { Lz.show('form', true); });
})();
