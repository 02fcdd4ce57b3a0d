// Every composition takes its size, fps and length from the props (calculateMetadata), so the
// scene's narration decides the duration and the format decides the frame.
import React from 'react';
import {CalculateMetadataFunction, Composition} from 'remotion';
import {BaseProps, defaultBase} from './brand';
import {KineticList, KineticListProps} from './KineticList';
import {TitleCard, TitleCardProps} from './TitleCard';

const fromProps: CalculateMetadataFunction<BaseProps> = ({props}) => ({
  durationInFrames: props.durationInFrames,
  fps: props.fps,
  width: props.width,
  height: props.height,
});

export const Root: React.FC = () => (
  <>
    <Composition
      id="TitleCard"
      component={TitleCard}
      durationInFrames={150}
      fps={30}
      width={1920}
      height={1080}
      defaultProps={{...defaultBase, title: 'Title', subtitle: ''} as TitleCardProps}
      calculateMetadata={fromProps as CalculateMetadataFunction<TitleCardProps>}
    />
    <Composition
      id="KineticList"
      component={KineticList}
      durationInFrames={150}
      fps={30}
      width={1920}
      height={1080}
      defaultProps={{...defaultBase, title: '', items: ['First', 'Second']} as KineticListProps}
      calculateMetadata={fromProps as CalculateMetadataFunction<KineticListProps>}
    />
  </>
);
