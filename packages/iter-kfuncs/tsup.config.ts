import { packageConfig } from '../../scripts/tsup-package.js';

export default packageConfig({ entries: { index: 'src/index.ts', rx: 'src/rx.ts', testing: 'src/testing.ts' } });
