// Labels in English (the default) and Simplified Chinese; the choice is kept in localStorage.
import { signal } from "./signal";

export type Lang = "en" | "zh-CN";

const zh: Record<string, string> = {
  Overview: "总览",
  Queue: "队列",
  Jobs: "作业",
  Tenants: "租户",
  "My tenant": "我的租户",
  Nodes: "节点",
  "Sign in": "登录",
  "Sign out": "退出",
  Token: "令牌",
  "Sign in with a suanpan token (suanpan token create, or the one suanpan dev printed).":
    "使用 suanpan 令牌登录（suanpan token create 创建，或 suanpan dev 打印的令牌）。",
  Devices: "设备",
  Allocated: "已分配",
  Free: "空闲",
  Down: "故障",
  "Partner's own": "伙伴自用",
  "Peak PFLOPS (FP16)": "峰值 PFLOPS (FP16)",
  "Queued jobs": "排队作业",
  "Running jobs": "运行作业",
  Utilization: "利用率",
  "Devices held over the last hours": "最近数小时占用的设备",
  "Jobs waiting": "等待作业",
  Providers: "算力伙伴",
  Provider: "算力伙伴",
  Region: "地域",
  Regions: "地域",
  Backend: "接入方式",
  State: "状态",
  "Device types": "设备类型",
  Type: "类型",
  Total: "总数",
  "Queue by tenant": "各租户队列",
  Tenant: "租户",
  Queued: "排队",
  Running: "运行",
  "Oldest wait": "最长等待",
  "Mean wait": "平均等待",
  Alerts: "告警",
  "No alerts": "无告警",
  Filter: "筛选",
  All: "全部",
  Name: "名称",
  Position: "位置",
  Reason: "原因",
  "Expected start": "预计开始",
  Submitted: "提交时间",
  User: "用户",
  Project: "项目",
  Placement: "放置",
  Cluster: "集群",
  Node: "节点",
  Events: "事件",
  Logs: "日志",
  Worker: "工作进程",
  "Cost so far": "目前费用",
  "Not placed yet": "尚未放置",
  Quotas: "配额",
  Guaranteed: "保障",
  Used: "已用",
  Max: "上限",
  Weight: "权重",
  Projects: "项目",
  Balance: "余额",
  Vouchers: "算力券",
  Invoices: "发票",
  Spent: "已消费",
  Accrued: "应计",
  Budget: "月度预算",
  "Leaf switch": "叶交换机",
  "whole GPUs in use": "整卡占用",
  "shared GPU in use": "共享占用",
  idle: "空闲",
  down: "故障",
  Jobs_on_node: "节点上的作业",
  "other tenants' jobs": "其他租户的作业",
  More: "更多",
  "Not found": "未找到",
  Loading: "加载中",
  "All times are local.": "时间为本地时间。",
  "Waiting jobs in order": "按顺序的等待作业",
  "All jobs": "全部作业",
  Agent: "代理",
  "Device use": "设备占用",
  Job: "作业",
  "no jobs": "无作业",
  Language: "语言",
  Reports: "仿真报告",
  "Devices held over the last 24 hours": "最近 24 小时占用的设备",
  "Use over time": "用量趋势",
  "Simulator report": "仿真报告",
  "Open the report.json, jobs.csv and timeline.json of a suanpan sim --out directory.":
    "打开 suanpan sim --out 目录中的 report.json、jobs.csv 和 timeline.json。",
  "JCT distribution": "作业完成时间分布",
  "share of jobs": "作业占比",
  "Devices allocated over time": "设备分配随时间变化",
  "Jobs waiting over time": "等待作业随时间变化",
};

const saved = (localStorage.getItem("suanpan.lang") as Lang | null) ?? "en";
export const lang = signal<Lang>(saved === "zh-CN" ? "zh-CN" : "en");

export function setLang(l: Lang) {
  localStorage.setItem("suanpan.lang", l);
  document.documentElement.lang = l;
  lang.set(l);
}

// The label in the current language (keys are the English labels).
export function t(key: string): string {
  if (lang.get() === "zh-CN") return zh[key] ?? key.replace(/_/g, " ");
  return key.replace(/_on_node$/, " on this node").replace(/_/g, " ");
}
