// The daily symptom form: "none" or the symptoms ticked, "other" with its
// text, an optional temperature; sent as JSON with the token from the
// fragment.
'use strict';
(function () {
  var t = Lz.t, $ = Lz.$;
  var token = Lz.token();
  var form = $('form');
  var CODES = {
    invalid_token: 'js.invalid_token', token_used: 'js.sym_used', token_expired: 'js.sym_expired',
    validation_failed: 'js.sym_invalid'
  };

  function boxes() { return form.querySelectorAll('input[name=symptoms]'); }

  // "No symptoms" and a symptom exclude each other.
  form.addEventListener('change', function (e) {
    if (e.target.name !== 'symptoms' || !e.target.checked) return;
    var none = e.target.value === 'none';
    Array.prototype.forEach.call(boxes(), function (b) {
      if (b !== e.target && (none || b.value === 'none')) b.checked = false;
    });
  });
  $('other').addEventListener('input', function () {
    if ($('other').value.trim()) $('other-box').checked = true;
  });

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var ticked = Array.prototype.filter.call(boxes(), function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    var other = $('other').value.trim();
    if (!ticked.length) { Lz.say('status', t('js.sym_pick'), 'bad'); return; }
    if (ticked.indexOf('other') >= 0 && !other) { Lz.say('status', t('js.sym_other_text'), 'bad'); $('other').focus(); return; }
    var body = { token: token, symptoms: ticked };
    if (ticked.indexOf('other') >= 0) body.other = other;
    var temp = $('temp').value.trim().replace(',', '.');
    if (temp) body.temperature_c = Number(temp);
    $('send').disabled = true;
    Lz.say('status', t('js.sending'));
    Lz.postJson('/api/v1/symptom-reports', body).then(function (res) {
      $('send').disabled = false;
      if (res.status !== 201) {
        var final = res.body && (res.body.code === 'token_used' || res.body.code === 'token_expired' || res.body.code === 'invalid_token');
        if (final) { done(Lz.problem(res, CODES), 'bad', ''); } else { Lz.say('status', Lz.problem(res, CODES), 'bad'); }
        return;
      }
      var alert = res.body.symptomatic;
      done(t('js.sym_thanks') + (alert ? ' ' + t('js.sym_alert') : ''), alert ? '' : 'good', alert ? 'symptomatic' : 'well');
    });
  });

  function done(text, kind, state) {
    Lz.say('status', '');
    form.hidden = true;
    $('outcome').setAttribute('data-state', state);
    Lz.say('outcome', text, kind);
    Lz.show('result', true);
  }

  if (!token) { Lz.say('status', t('js.no_token'), 'bad'); return; }
  // Open in the person's language unless they chose one.
  Lz.openInPersonsLanguage('/api/v1/symptom-reports/form', token, function () { form.hidden = false; });
})();
