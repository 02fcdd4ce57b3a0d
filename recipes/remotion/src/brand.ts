// Props every Showrunner composition receives: the frame geometry and length come from the
// scene (its narration decides the duration), the palette and fonts from the brand.
export type Palette = {
  background: string;
  surface: string;
  text: string;
  accent: string;
  muted: string;
};

export type Fonts = {heading: string; body: string};

export type BaseProps = {
  width: number;
  height: number;
  fps: number;
  durationInFrames: number;
  // seconds of silence before the narration starts (the segment's lead)
  lead: number;
  // sentence start/end times in seconds from the start of the clip
  sentences: {text: string; start: number; end: number}[];
  palette: Palette;
  fonts: Fonts;
};

export const defaultBase: BaseProps = {
  width: 1920,
  height: 1080,
  fps: 30,
  durationInFrames: 150,
  lead: 0.2,
  sentences: [],
  palette: {background: '#101418', surface: '#1c232b', text: '#f5f7fa', accent: '#ffb000', muted: '#9aa5b1'},
  fonts: {heading: 'DejaVu Sans', body: 'DejaVu Sans'},
};
