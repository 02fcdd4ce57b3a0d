// Items appear one by one, each at the start of a narration sentence when there are enough
// sentences, otherwise evenly over the narration; the newest item is drawn in the accent colour.
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame, useVideoConfig} from 'remotion';
import {BaseProps} from './brand';

export type KineticListProps = BaseProps & {title?: string; items: string[]};

export const revealFrames = (n: number, props: BaseProps, fps: number, total: number): number[] => {
  if (props.sentences.length >= n) {
    return props.sentences.slice(0, n).map((s) => Math.round(s.start * fps));
  }
  const first = Math.round(props.lead * fps);
  const last = Math.max(first, Math.round(total * 0.75));
  return Array.from({length: n}, (_, i) => (n === 1 ? first : Math.round(first + ((last - first) * i) / (n - 1))));
};

export const KineticList: React.FC<KineticListProps> = (props) => {
  const {title, items, palette, fonts} = props;
  const frame = useCurrentFrame();
  const {fps, width, height, durationInFrames} = useVideoConfig();
  const unit = Math.min(width, height) / 100;
  const at = revealFrames(items.length, props, fps, durationInFrames);
  const newest = at.filter((f) => f <= frame).length - 1;
  return (
    <AbsoluteFill style={{backgroundColor: palette.background, padding: unit * 8, gap: unit * 4}}>
      {title ? (
        <div style={{color: palette.text, fontFamily: fonts.heading, fontWeight: 700, fontSize: unit * 8}}>{title}</div>
      ) : null}
      {items.map((item, i) => {
        const shown = interpolate(frame, [at[i], at[i] + 12], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
        return (
          <div
            key={i}
            style={{
              display: 'flex',
              alignItems: 'center',
              gap: unit * 3,
              opacity: shown,
              transform: `translateX(${(1 - shown) * unit * 8}px)`,
              color: i === newest ? palette.accent : palette.text,
              fontFamily: fonts.body,
              fontSize: unit * 5.5,
            }}
          >
            <div style={{width: unit * 2, height: unit * 2, borderRadius: unit, backgroundColor: palette.accent}} />
            {item}
          </div>
        );
      })}
    </AbsoluteFill>
  );
};
