/** Tagged templates instead of JSX: no compile step for markup, and esbuild bundles it as is. */
import htm from 'htm';
import { h, type VNode } from 'preact';

export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
export type Node = VNode | null;
