// The console's keyboard shortcuts and "select all". The pages work without
// it: every action is a plain form.
(function () {
  'use strict';
  // The alert queue or the persons list: j/k move between their rows.
  var queue = document.getElementById('queue') || document.getElementById('persons');
  var selectAll = document.getElementById('select-all');
  var count = document.getElementById('selected-count');

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('#queue input[name=ids]'));
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('#queue tbody tr, #persons tbody tr'));
  }
  function showCount() {
    if (!count) return;
    var n = boxes().filter(function (b) { return b.checked; }).length;
    count.textContent = n ? (count.getAttribute('data-template') || '{n}').replace('{n}', n) : '';
  }
  if (selectAll) {
    selectAll.addEventListener('change', function () {
      boxes().forEach(function (b) { b.checked = selectAll.checked; });
      showCount();
    });
  }
  boxes().forEach(function (b) { b.addEventListener('change', showCount); });

  var current = -1;
  function move(to) {
    var r = rows();
    if (!r.length) return;
    current = Math.max(0, Math.min(r.length - 1, to));
    r.forEach(function (row, i) { row.classList.toggle('current', i === current); });
    var link = r[current].querySelector('a.open');
    if (link) link.focus();
  }
  function currentRow() {
    var r = rows();
    if (current < 0) {
      // The row holding the focus, if any.
      var at = r.findIndex(function (row) { return row.contains(document.activeElement); });
      if (at >= 0) current = at;
    }
    return current >= 0 ? r[current] : null;
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var typing = t && (t.tagName === 'INPUT' && t.type !== 'checkbox' && t.type !== 'radio' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
    if (typing) return;
    var row;
    switch (e.key) {
      case 'j': if (queue) { move(current + 1); e.preventDefault(); } break;
      case 'k': if (queue) { move(current < 0 ? 0 : current - 1); e.preventDefault(); } break;
      case 'x':
        row = currentRow();
        if (row) { var b = row.querySelector('input[name=ids]'); b.checked = !b.checked; showCount(); e.preventDefault(); }
        break;
      case 'a':
        row = currentRow();
        var assign = row ? row.querySelector('button.assign') : document.getElementById('assign');
        if (assign) { assign.click(); e.preventDefault(); }
        break;
      case 'r':
        row = currentRow();
        if (row) {
          var link = row.querySelector('a.resolve-link');
          if (link) { location.href = link.href; e.preventDefault(); }
        } else if (focusResolve()) {
          e.preventDefault();
        }
        break;
      case '/':
        var filter = document.querySelector('[data-shortcut="/"]');
        if (filter) { filter.focus(); e.preventDefault(); }
        break;
    }
  });

  function focusResolve() {
    var first = document.querySelector('#resolve input[name=outcome]');
    if (first) { first.focus(); return true; }
    return false;
  }
  // After the browser's own jump to the fragment, which moves the focus to
  // the document (the section itself is not focusable).
  // A page whose work goes on in the background (an import's progress)
  // reloads itself every data-refresh seconds.
  var refresh = document.querySelector('[data-refresh]');
  if (refresh) {
    var secs = parseInt(refresh.getAttribute('data-refresh'), 10) || 2;
    setTimeout(function () { location.reload(); }, secs * 1000);
  }
  if (location.hash === '#resolve') {
    window.addEventListener('load', function () { setTimeout(focusResolve, 0); });
  }
})();
