// Our own inline-SVG charts (no chart library): the team heatmap and a rep's radar.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(NS, tag);
    for (const [attr, value] of Object.entries(attrs || {})) if (value !== null && value !== undefined) node.setAttribute(attr, value);
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Diverging colour of a relative gap: red below the team mean, blue above, white at it (±span saturates).
  function gapColour(gap, span = 0.3) {
    if (gap === null || gap === undefined || !Number.isFinite(gap)) return "#eef1f5";
    const x = Math.max(-1, Math.min(1, gap / span));
    const mix = (a, b) => Math.round(255 + (b - 255) * Math.abs(x));
    return x < 0 ? `rgb(${mix(255, 214)},${mix(255, 69)},${mix(255, 65)})` : `rgb(${mix(255, 49)},${mix(255, 111)},${mix(255, 222)})`;
  }

  // rows x columns of gaps; flagged cells get a red outline and their reason as the tooltip. The column
  // labels slant up and to the right: the top and right margins leave room for the longest one.
  function heatmap({ rows, columns, gaps, values, flags, reasons, columnLabel }) {
    const cell = 34, left = 90, top = 150, right = 130;
    const width = left + cell * columns.length + right, height = top + cell * rows.length + 10;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "heatmap" });
    columns.forEach((column, j) => root.append(svg("text", {
      x: left + j * cell + cell / 2, y: top - 6, transform: `rotate(-50 ${left + j * cell + cell / 2} ${top - 6})`,
    }, columnLabel(column))));
    rows.forEach((row, i) => {
      root.append(svg("text", { x: left - 6, y: top + i * cell + cell / 2 + 4, "text-anchor": "end" }, row));
      columns.forEach((column, j) => {
        const gap = gaps[i][j];
        const flagged = Boolean(flags[i][j]);
        const tip = `${row} · ${columnLabel(column)}: ${Number(values[i][j]).toFixed(2)} (${gap >= 0 ? "+" : ""}${Math.round(gap * 100)}%)`
          + (flagged ? ` — ${reasons[`${row}|${column}`] || ""}` : "");
        root.append(svg("rect", {
          class: `cell${flagged ? " flagged" : ""}`, x: left + j * cell, y: top + i * cell, width: cell, height: cell,
          fill: gapColour(gap), "data-rep": row, "data-dimension": column,
        }, svg("title", {}, tip)));
        if (flagged) root.append(svg("rect", { class: "flag", x: left + j * cell + 2, y: top + i * cell + 2, width: cell - 4, height: cell - 4 }));
      });
    });
    return root;
  }

  // A label as lines of at most maxChars (split at spaces; a word longer than that keeps its own line).
  function wrapped(label, maxChars = 13) {
    const lines = [];
    for (const word of String(label).split(/\s+/).filter(Boolean)) {
      const last = lines.length ? lines[lines.length - 1] : null;
      if (last !== null && last.length + 1 + word.length <= maxChars) lines[lines.length - 1] = `${last} ${word}`;
      else lines.push(word);
    }
    return lines.length ? lines : [""];
  }

  // An axis label at (x, y): anchored away from the centre, its lines stacked away from the chart.
  function axisText(label, x, y, centre) {
    const lines = wrapped(label), lineHeight = 12;
    const anchor = x < centre - 5 ? "end" : x > centre + 5 ? "start" : "middle";
    const shift = y < centre - 5 ? -(lines.length - 1) : y > centre + 5 ? 0 : -(lines.length - 1) / 2;
    const top = y + 4 + shift * lineHeight;
    return svg("text", { x, y: top, "text-anchor": anchor },
      lines.map((line, i) => svg("tspan", { x, y: top + i * lineHeight }, line)));
  }

  // One polygon per series over the same axes; the scale runs from 0 to the largest value. The side
  // margins leave room for the axis labels left and right of the chart ("Follow-up & responsiveness").
  function radar({ axes, series, axisLabel, size = 300, margin = 56 }) {
    const centre = size / 2, radius = size / 2 - 60;
    const max = Math.max(...series.flatMap((s) => s.values).filter(Number.isFinite), 1e-9);
    const point = (k, value) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * k) / axes.length;
      const r = radius * Math.max(0, value) / max;
      return [centre + r * Math.cos(angle), centre + r * Math.sin(angle)];
    };
    const root = svg("svg", { viewBox: `${-margin} 0 ${size + 2 * margin} ${size}`, role: "img", class: "radar" });
    for (const ring of [0.25, 0.5, 0.75, 1]) {
      root.append(svg("polygon", { class: "axis", points: axes.map((_, k) => point(k, ring * max).join(",")).join(" ") }));
    }
    axes.forEach((axis, k) => {
      const [x, y] = point(k, max);
      const [lx, ly] = point(k, max * 1.12);
      root.append(svg("line", { class: "axis", x1: centre, y1: centre, x2: x, y2: y }));
      root.append(axisText(axisLabel(axis), lx, ly, centre));
    });
    for (const s of series) {
      root.append(svg("polygon", { class: s.className, points: s.values.map((v, k) => point(k, v).join(",")).join(" ") },
        svg("title", {}, s.label)));
    }
    return root;
  }

  return { svg, gapColour, heatmap, radar };
})();
