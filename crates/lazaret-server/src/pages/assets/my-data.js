// The person's own data: asks the server with the token from the fragment
// (in a header, never in a URL), shows each section, and lets the download
// button post the same token as a form (the answer is an attachment).
'use strict';
(function () {
  var t = Lz.t, $ = Lz.$;
  var token = Lz.token();
  var CODES = { invalid_token: 'js.invalid_token', token_expired: 'js.md_expired' };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // Text from the data (an address, a name) keeps its own direction inside
  // the page's (a Latin address on an Arabic page), while the paragraph
  // around it keeps the page's alignment.
  function isolated(text) {
    var b = el('bdi', '', text);
    b.dir = 'auto';
    return b;
  }

  function para(cls, text) {
    var p = el('p', cls);
    p.appendChild(isolated(text));
    return p;
  }

  // Times in the zone of the place of quarantine (the latest order's when
  // a record has no order), as the messages give them.
  var homeZone = null;

  function when(iso, zone) {
    if (!iso) return '';
    var opts = { dateStyle: 'medium', timeStyle: 'short' };
    if (zone || homeZone) opts.timeZone = zone || homeZone;
    try {
      return new Date(iso).toLocaleString(Lz.locale, opts);
    } catch (e) {
      delete opts.timeZone;
      return new Date(iso).toLocaleString(Lz.locale, opts);
    }
  }

  function day(ymd) {
    return new Date(ymd + 'T12:00:00Z').toLocaleDateString(Lz.locale, { dateStyle: 'medium', timeZone: 'UTC' });
  }

  function fill(id, items, render) {
    var list = $(id);
    list.textContent = '';
    if (!items.length) {
      list.appendChild(el('li', 'none', t('js.md_none')));
      return;
    }
    items.forEach(function (item) { list.appendChild(render(item)); });
  }

  // `label` ends with its language's colon (a full-width one needs no space).
  function line(label, value) {
    var p = el('p');
    p.appendChild(el('span', 'label', label + (/：$/.test(label) ? '' : ' ')));
    p.appendChild(document.createTextNode(value));
    return p;
  }

  function zones(orders) {
    var z = {};
    orders.forEach(function (o) { z[o.id] = o.time_zone; });
    return z;
  }

  function show(d) {
    $('you-name').textContent = d.person.full_name;
    $('you-phone').textContent = d.person.phone || '—';
    $('you-email').textContent = d.person.email || '—';
    var own = document.querySelector('.langs a[hreflang="' + d.person.language + '"]');
    $('you-language').textContent = own ? own.textContent : d.person.language;
    $('until').textContent = t('js.md_until', { date: when(d.access_until) });
    var zoneOf = zones(d.orders);
    if (d.orders.length) homeZone = d.orders[d.orders.length - 1].time_zone || null;

    fill('orders', d.orders.slice().reverse(), function (o) {
      var li = el('li', 'item');
      li.setAttribute('data-order', o.id);
      li.appendChild(para('strong', o.address));
      li.appendChild(line(t('js.md_period'), when(o.starts_at, o.time_zone) + ' – ' + when(o.ended_at || o.ends_at, o.time_zone)));
      li.appendChild(line(t('js.md_status'), t('js.md_order.' + o.status)));
      return li;
    });

    fill('checkins', d.checkins.slice().reverse(), function (c) {
      var li = el('li', 'item');
      li.setAttribute('data-status', c.status);
      var zone = zoneOf[c.order_id];
      li.appendChild(el('p', 'strong', t('js.md_asked', { time: when(c.issued_at, zone) }) + ' — ' + t('js.md_prompt.' + c.status)));
      if (c.tries.length) {
        var tries = el('ul', 'tries');
        c.tries.forEach(function (tr) {
          var row = el('li', '', t('js.md_try', { time: when(tr.received_at, zone), outcome: t('js.md_out.' + tr.outcome) }));
          row.setAttribute('data-outcome', tr.outcome);
          tries.appendChild(row);
        });
        li.appendChild(tries);
      }
      return li;
    });

    fill('symptoms', d.symptom_reports.slice().reverse(), function (r) {
      var li = el('li', 'item');
      li.appendChild(el('p', 'strong', day(r.day)));
      li.appendChild(el('p', '', r.symptoms.map(function (s) { return t('sym_' + s); }).join(', ')));
      if (r.other) li.appendChild(para('', r.other));
      if (r.temperature_c !== null && r.temperature_c !== undefined) {
        li.appendChild(el('p', '', t('js.md_temp', { t: r.temperature_c.toLocaleString(Lz.locale) })));
      }
      return li;
    });

    fill('messages', d.messages.slice().reverse(), function (m) {
      var li = el('li', 'item');
      li.setAttribute('data-kind', m.kind);
      li.appendChild(el('p', 'strong', t('js.md_kind.' + m.kind) + ' — ' + t('js.md_msg.' + m.status)));
      var via = t(m.channel === 'email' ? 'js.md_via_email' : 'js.md_via_sms', { to: '\u2068' + (m.recipient || '—') + '\u2069' });
      li.appendChild(el('p', 'small', when(m.sent_at || m.created_at) + ' · ' + via));
      if (m.body) {
        var det = el('details');
        det.appendChild(el('summary', '', m.subject || t('js.md_kind.' + m.kind)));
        var body = el('p', 'body', m.body);
        body.dir = 'auto';
        det.appendChild(body);
        li.appendChild(det);
      }
      return li;
    });

    fill('access', d.access_log.slice().reverse(), function (a) {
      var li = el('li', 'item');
      li.setAttribute('data-action', a.action);
      li.appendChild(el('p', 'strong', t('js.md_act.' + a.category, { action: a.action })));
      var p = el('p', 'small', when(a.at) + ' · ');
      var role = a.who.role ? t('js.md_role.' + a.who.role) : '';
      if (a.who.kind === 'officer') {
        p.appendChild(isolated(a.who.name));
        if (role) p.appendChild(document.createTextNode(' (' + role + ')'));
      } else if (a.who.kind === 'service') {
        p.appendChild(document.createTextNode(t('js.md_who_service', { role: role || '—' })));
      } else if (a.who.kind === 'administrator') {
        p.appendChild(document.createTextNode(t('js.md_who_admin')));
      } else {
        p.appendChild(isolated(a.who.name || '—'));
      }
      li.appendChild(p);
      return li;
    });

    $('download-token').value = token;
    Lz.say('status', '');
    Lz.show('data', true);
  }

  if (!token) { Lz.say('status', t('js.no_token'), 'bad'); return; }
  Lz.say('status', t('js.loading'));
  Lz.call('/api/v1/my-data', { method: 'POST', headers: { 'X-Lazaret-Token': token } }).then(function (res) {
    if (res.status !== 200 || !res.body) { Lz.say('status', Lz.problem(res, CODES), 'bad'); return; }
    // Open in the person's language unless they chose one.
    if (Lz.followLanguage(res.body.person.language)) return;
    show(res.body);
  });
})();
