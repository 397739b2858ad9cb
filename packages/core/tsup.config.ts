import { packageConfig } from '../../scripts/tsup-package.js';

export default packageConfig({ entries: { index: 'src/index.ts', internal: 'src/internal.ts' } });
