// Time-series charts with uPlot: canvas drawing that stays fast at thousands of points and many
// series, 45 kB, no dependencies.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];

export type Series = { label: string; values: number[]; axis?: "left" | "right"; dash?: boolean };

export function TimeChart(props: {
  id: string;
  t: number[];
  series: Series[];
  height?: number;
  left: string;
  right?: string;
  time?: boolean; // false: x is a plain number (seconds of a simulation, JCT)
  step?: boolean; // a step function (held until the next point), not a line between points
  logx?: boolean; // x on a log10 scale (x > 0): a JCT CDF spans seconds to weeks
  xlabel?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join("|");
  useEffect(() => {
    if (!box.current) return;
    const width = Math.max(320, box.current.clientWidth);
    const opts: uPlot.Options = {
      width,
      height: props.height ?? 220,
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          paths: props.step ? uPlot.paths.stepped!({ align: 1 }) : undefined,
          dash: s.dash ? [6, 4] : undefined,
          scale: s.axis === "right" ? "jobs" : "devices",
          fill: s.dash || s.axis === "right" || props.time === false ? undefined : COLORS[i % COLORS.length] + "22",
        })),
      ],
      scales: { x: props.logx ? { time: false, distr: 3 } : { time: props.time !== false }, devices: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        props.xlabel ? { label: props.xlabel } : {},
        { scale: "devices", label: props.left },
        ...(props.right ? [{ scale: "jobs", label: props.right, side: 1 as const, grid: { show: false } }] : []),
      ],
      legend: { live: true },
    };
    plot.current = new uPlot(opts, [props.t, ...props.series.map((s) => s.values)], box.current);
    const onResize = () => plot.current?.setSize({ width: Math.max(320, box.current!.clientWidth), height: opts.height });
    window.addEventListener("resize", onResize);
    return () => {
      window.removeEventListener("resize", onResize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, props.left, props.right, props.time, props.step, props.logx, props.xlabel]);
  useEffect(() => {
    plot.current?.setData([props.t, ...props.series.map((s) => s.values)]);
  }, [props.t, props.series]);
  return <div class="chart" id={props.id} ref={box} />;
}
