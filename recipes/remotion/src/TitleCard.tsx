// A title that slides in over an accent bar, with an optional subtitle; holds until the end.
import React from 'react';
import {AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig} from 'remotion';
import {BaseProps} from './brand';

export type TitleCardProps = BaseProps & {title: string; subtitle?: string; kicker?: string};

export const TitleCard: React.FC<TitleCardProps> = ({title, subtitle, kicker, palette, fonts, lead}) => {
  const frame = useCurrentFrame();
  const {fps, width, height, durationInFrames} = useVideoConfig();
  const start = Math.round(lead * fps);
  const enter = spring({frame: frame - start, fps, config: {damping: 200}, durationInFrames: Math.min(30, durationInFrames)});
  const sub = interpolate(frame, [start + 12, start + 30], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  const unit = Math.min(width, height) / 100;
  return (
    <AbsoluteFill style={{backgroundColor: palette.background, justifyContent: 'center', alignItems: 'center'}}>
      <div style={{width: '80%', display: 'flex', flexDirection: 'column', gap: unit * 2}}>
        {kicker ? (
          <div style={{color: palette.muted, fontFamily: fonts.body, fontSize: unit * 4, opacity: sub, letterSpacing: unit * 0.3}}>
            {kicker.toUpperCase()}
          </div>
        ) : null}
        <div
          style={{
            color: palette.text,
            fontFamily: fonts.heading,
            fontWeight: 700,
            fontSize: unit * 9,
            lineHeight: 1.1,
            transform: `translateY(${(1 - enter) * unit * 6}px)`,
            opacity: enter,
          }}
        >
          {title}
        </div>
        <div style={{height: unit * 1.2, width: `${enter * 30}%`, backgroundColor: palette.accent, borderRadius: unit}} />
        {subtitle ? (
          <div style={{color: palette.text, fontFamily: fonts.body, fontSize: unit * 5, opacity: sub * 0.9}}>{subtitle}</div>
        ) : null}
      </div>
    </AbsoluteFill>
  );
};
