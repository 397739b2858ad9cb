// One-off: write a package's public index.ts from its full list (internal.ts) minus internal names.
import ts from 'typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
const [pkgDir, internalNames, dropNames = ''] = process.argv.slice(2);
const internal = new Set(internalNames.split(',').filter(Boolean));
const drop = new Set(dropNames.split(',').filter(Boolean)); // dropped from both
const full = resolve(pkgDir, 'src/internal.ts');
const program = ts.createProgram([full], { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, customConditions: ['@bpf-iter/source'], strict: true, skipLibCheck: true, types: ['node'] });
const checker = program.getTypeChecker();
const sf = program.getSourceFile(full)!;
const text = sf.getFullText();
let out = '';
let last = 0;
const seen = new Set<string>();
for (const st of sf.statements) {
  if (!ts.isExportDeclaration(st) || !st.moduleSpecifier || st.exportClause) continue;
  // export * from './x.js'
  const modSym = checker.getSymbolAtLocation(st.moduleSpecifier)!;
  const exps = checker.getExportsOfModule(modSym);
  const names = exps.map((s) => s.name);
  if (!names.some((n) => internal.has(n) || drop.has(n))) continue;
  const parts: string[] = [];
  for (const s of exps) {
    if (internal.has(s.name) || drop.has(s.name)) { seen.add(s.name); continue; }
    const t = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const isValue = (t.flags & ts.SymbolFlags.Value) !== 0;
    parts.push(isValue ? s.name : `type ${s.name}`);
  }
  parts.sort((a, b) => a.replace('type ', '').localeCompare(b.replace('type ', '')));
  out += text.slice(last, st.getStart()) + `export {\n  ${parts.join(',\n  ')},\n} from ${st.moduleSpecifier.getText()};`;
  last = st.getEnd();
}
out += text.slice(last);
// named export lists: drop internal names
out = out.replace(/export \{([^}]*)\} from ('[^']+');/g, (m, body: string, spec) => {
  const items = body.split(',').map((x) => x.trim()).filter(Boolean);
  const kept = items.filter((x) => { const n = x.replace(/^type /, '').split(' as ').pop()!.trim(); if (internal.has(n) || drop.has(n)) { seen.add(n); return false; } return true; });
  if (kept.length === items.length) return m;
  if (kept.length === 0) return '';
  return `export {\n  ${kept.join(',\n  ')},\n} from ${spec};`;
});
writeFileSync(resolve(pkgDir, 'src/index.ts'), out);
const missing = [...internal, ...drop].filter((n) => !seen.has(n));
console.log('moved', seen.size, 'missing', missing);
