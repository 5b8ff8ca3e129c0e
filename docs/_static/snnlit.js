// snnlit: figures are never squeezed below 70 % of their natural width. A notebook figure wider than the text
// column grows into the room on its right (over the page's table of contents, with an opaque background), up to
// its natural width; only where the window is too narrow even for 70 % does it scroll sideways at 70 %.
(function () {
  const MIN_SCALE = 0.7, MARGIN = 16;
  function fit(img) {
    // the size the figure was drawn for: the width attribute of a high-resolution (retina) PNG, else its pixels
    const natural = parseFloat(img.getAttribute('width')) || img.naturalWidth;
    let box = img.closest('a.image-reference');
    if (!box) {                                           // an image straight in the output: give it a box
      if (!img.parentElement.classList.contains('snnlit-figure')) {
        const wrap = document.createElement('div'); wrap.className = 'snnlit-figure';
        img.parentElement.insertBefore(wrap, img); wrap.appendChild(img);
      }
      box = img.parentElement;
    }
    if (!natural || !box) return;
    box.classList.remove('snnlit-wide'); box.style.width = ''; img.style.width = '';
    const column = box.closest('div.cell_output').getBoundingClientRect();
    if (natural <= column.width + 0.5) return;                      // fits the text column
    const room = document.documentElement.clientWidth - column.left - MARGIN;
    const width = Math.max(column.width, Math.min(natural, room));
    box.classList.add('snnlit-wide');
    box.style.width = width + 'px';
    img.style.width = Math.max(Math.min(natural, width), Math.ceil(MIN_SCALE * natural)) + 'px';
  }
  function fitAll() { document.querySelectorAll('div.cell_output img').forEach(img => {
    if (img.complete) fit(img); else img.addEventListener('load', () => fit(img), {once: true}); }); }
  window.snnlitFitFigures = fitAll;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fitAll); else fitAll();
  window.addEventListener('load', fitAll);
  let t; window.addEventListener('resize', () => { clearTimeout(t); t = setTimeout(fitAll, 100); });
})();
