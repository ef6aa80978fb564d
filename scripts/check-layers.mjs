#!/usr/bin/env node
// The import graph of src/, drawn from the code and checked against the layering that
// docs/ARCHITECTURE.md declares (its "Layers" table is the one place the rules live).
//
//   node scripts/check-layers.mjs            check; exit 1 on a violation
//   node scripts/check-layers.mjs --figures  also print folder edges, circles, allowances the code does
//                                            not use (rows to tighten) and the largest files
//
// It fails on: a file that belongs to no declared module; an import a module's row does not allow
// (an arrow pointing up or sideways); a cycle between modules or between folders; an import circle
// between files inside router/. Type-only imports count: they are arrows of knowledge too.
// test/unit/layers.test.ts runs it with the suite.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DOC = path.join(ROOT, 'docs', 'ARCHITECTURE.md');
/** Files inside this folder may not import each other in a circle. */
const NO_CIRCLES_IN = 'router/';

/**
 * The rows of the table between `<!-- layers:begin -->` and `<!-- layers:end -->`, bottom layer
 * first: | `module` ... | what it holds | `may` `import` |. A module is one or more folders (ending
 * in '/') or files of src/; a file belongs to the longest entry that covers it.
 */
export function readLayers(doc = fs.readFileSync(DOC, 'utf8')) {
  const block = /<!-- layers:begin -->([\s\S]*?)<!-- layers:end -->/.exec(doc);
  if (!block) throw new Error(`${path.relative(ROOT, DOC)}: no <!-- layers:begin --> ... <!-- layers:end --> table`);
  const modules = [];
  for (const line of block[1].split('\n')) {
    const cells = line.split('|').slice(1, -1);
    if (cells.length < 3 || /^\s*:?-+/.test(cells[0])) continue;
    const spans = (cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const paths = spans(cells[0]);
    if (paths.length === 0) continue; // the header row
    modules.push({ name: paths[0], paths, mayImport: spans(cells[cells.length - 1]) });
  }
  return modules;
}

/** Every relative import of every .ts file under src/: { from, to, typeOnly } with src-relative paths. */
export function readImports(src = SRC) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(src);
  const edges = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false);
    const from = rel(src, file);
    const add = (specifier, typeOnly) => {
      if (!specifier.startsWith('.')) return; // a package
      edges.push({ from, to: rel(src, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, '.ts'), typeOnly });
    };
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, isTypeOnlyImport(node.importClause));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [arg] = node.arguments;
        if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files: files.map((f) => rel(src, f)), edges };
}

function isTypeOnlyImport(clause) {
  if (!clause) return false; // import './x.js': for its effects
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

const rel = (src, p) => path.relative(src, p).split(path.sep).join('/');

/** The module a src-relative file belongs to: the longest declared path that covers it. */
function moduleOf(modules, file) {
  let best;
  let bestLength = -1;
  for (const m of modules) {
    for (const p of m.paths) {
      const covers = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (covers && p.length > bestLength) { best = m; bestLength = p.length; }
    }
  }
  return best;
}

/** Folder of a src-relative file: its top folder under src/ ('router'), or '.' for files at the top. */
const folderOf = (file) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '.');

/** Strongly connected parts with more than one member (Tarjan), each sorted: the circles of a graph. */
export function circles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  let next = 0;
  const connect = (v) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { connect(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const part = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); part.push(w); } while (w !== v);
      if (part.length > 1) out.push(part.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return out;
}

function graphOf(pairs) {
  const graph = new Map();
  for (const [a, b] of pairs) {
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    graph.get(a).add(b);
  }
  return graph;
}

/**
 * Checks the code against the layering. Returns the problems found (empty: the tree keeps it) and
 * the figures the lead's notes quote.
 */
export function checkLayers({ modules = readLayers(), imports = readImports() } = {}) {
  const problems = [];
  const position = new Map(modules.map((m, i) => [m.name, i]));
  for (const m of modules) {
    for (const target of m.mayImport) {
      const t = modules.find((n) => n.paths.includes(target));
      if (!t) problems.push(`ARCHITECTURE.md: \`${m.name}\` may import \`${target}\`, which is no module of the table`);
      else if (position.get(t.name) >= position.get(m.name)) problems.push(`ARCHITECTURE.md: \`${m.name}\` may import \`${target}\`, which is not below it in the table`);
    }
  }
  for (const file of imports.files) {
    if (!moduleOf(modules, file)) problems.push(`src/${file}: belongs to no module of ARCHITECTURE.md's layers`);
  }
  const moduleEdges = [];
  const used = new Set();
  const folderEdges = [];
  const routerEdges = [];
  const routerRuntimeEdges = [];
  for (const e of imports.edges) {
    const a = moduleOf(modules, e.from);
    const b = moduleOf(modules, e.to);
    if (a && b && a !== b) {
      moduleEdges.push([a.name, b.name]);
      used.add(`${a.name} -> ${b.name}`);
      if (!b.paths.some((p) => a.mayImport.includes(p))) {
        problems.push(`src/${e.from} imports src/${e.to}: \`${a.name}\` may not import \`${b.name}\``);
      }
    }
    const fa = folderOf(e.from);
    const fb = folderOf(e.to);
    if (fa !== fb && fa !== '.' && fb !== '.') folderEdges.push([fa, fb]);
    if (e.from.startsWith(NO_CIRCLES_IN) && e.to.startsWith(NO_CIRCLES_IN)) {
      routerEdges.push([e.from, e.to]);
      if (!e.typeOnly) routerRuntimeEdges.push([e.from, e.to]);
    }
  }
  const moduleCycles = circles(graphOf(moduleEdges));
  const folderCycles = circles(graphOf(folderEdges));
  const routerCircles = circles(graphOf(routerEdges));
  // The circles that remain once type-only imports are erased: the ones Node would load.
  const routerRuntimeCircles = circles(graphOf(routerRuntimeEdges));
  for (const c of moduleCycles) problems.push(`modules import each other in a cycle: ${c.join(', ')}`);
  for (const c of folderCycles) problems.push(`folders import each other in a cycle: ${c.join(', ')}`);
  for (const c of routerCircles) problems.push(`files of src/${NO_CIRCLES_IN} import each other in a circle: ${c.join(', ')}`);
  // Allowed but not taken: a row that could be tightened (not a problem).
  const unusedAllowances = modules.flatMap((m) => m.mayImport
    .filter((t) => !used.has(`${m.name} -> ${modules.find((n) => n.paths.includes(t))?.name}`))
    .map((t) => `${m.name} -> ${t}`));
  return { problems, unusedAllowances, moduleCycles, folderCycles, routerCircles, routerRuntimeCircles, folderEdges: [...new Set(folderEdges.map(([a, b]) => `${a} -> ${b}`))].sort() };
}

/** The largest .ts files under src/, by lines. */
export function largestFiles(count = 8, src = SRC) {
  return readImports(src).files
    .map((f) => ({ file: f, lines: fs.readFileSync(path.join(src, f), 'utf8').split('\n').length - 1 }))
    .sort((a, b) => b.lines - a.lines)
    .slice(0, count);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = checkLayers();
  if (process.argv.includes('--figures')) {
    console.log(`folder edges:\n  ${result.folderEdges.join('\n  ')}`);
    console.log(`folder cycles: ${result.folderCycles.length}`);
    for (const c of result.folderCycles) console.log(`  one knot of ${c.length}: ${c.join(', ')}`);
    const edges = new Set(result.folderEdges);
    const pairs = result.folderEdges.map((e) => e.split(' -> ')).filter(([a, b]) => a < b && edges.has(`${b} -> ${a}`));
    if (pairs.length > 0) console.log(`  folders importing each other: ${pairs.map(([a, b]) => `${a} <-> ${b}`).join(', ')}`);
    console.log(`import circles inside ${NO_CIRCLES_IN}: ${result.routerCircles.length}`);
    for (const c of result.routerCircles) console.log(`  ${c.length} files: ${c.join(', ')}`);
    console.log(`  of which without type-only imports: ${result.routerRuntimeCircles.length}`);
    if (result.unusedAllowances.length > 0) console.log(`allowed in the table, not imported: ${result.unusedAllowances.join(', ')}`);
    console.log('largest files:');
    for (const f of largestFiles()) console.log(`  ${String(f.lines).padStart(5)} src/${f.file}`);
  }
  for (const p of result.problems) console.error(p);
  if (result.problems.length > 0) {
    console.error(`\n${result.problems.length} problem(s): the code and docs/ARCHITECTURE.md disagree`);
    process.exit(1);
  }
  console.log('layers: the imports of src/ keep docs/ARCHITECTURE.md');
}
