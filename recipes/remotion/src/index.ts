// Entry point bundled by render.mjs: registers every composition in Root.tsx.
import {registerRoot} from 'remotion';
import {Root} from './Root';

registerRoot(Root);
