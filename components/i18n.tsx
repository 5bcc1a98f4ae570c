"use client";

import { createContext, useContext, useEffect, useState, type ReactNode } from "react";

export type Lang = "en" | "zh";

const messages = {
  en: {
    datasets: "Datasets", augmentations: "Augmentations", models: "Models", experiments: "Experiments", weights: "Weights",
    inference: "Inference", system: "System", admin: "Admin", projects: "Projects", settings: "Settings", logout: "Log out",
    team: "Team", login: "Log in", email: "Email", password: "Password", loginTitle: "Sign in to the studio",
    create: "Create", rename: "Rename", delete: "Delete", save: "Save", cancel: "Cancel", name: "Name", description: "Description",
    newProject: "New project", noProjects: "No projects yet.", apiKeys: "API keys", language: "中文",
    notYet: "This part of the studio is not built yet. Nothing is shown here until it works for real.",
    importDataset: "Import a dataset", uploadZip: "Upload .zip", serverFolder: "Server folder", importing: "Importing", statistics: "Statistics",
    preview: "Preview", splits: "Splits", resplit: "Re-split", pipelines: "Pipelines", addOp: "Add op", renderPreview: "Render preview", noDatasets: "No datasets yet.",
    newExperiment: "New experiment", noExperiments: "No experiments yet.", status: "Status", progress: "Progress", start: "Start", stop: "Stop", pause: "Pause", resume: "Resume", clone: "Clone", compare: "Compare", logs: "Logs", hyperparameters: "Hyper-parameters", device: "Device", dataset: "Dataset", model: "Model", eta: "ETA", search: "Search", bestMetrics: "Best metrics", architectures: "Architectures", newArchitecture: "New architecture", noArchitectures: "No architectures yet.", analyze: "Analyse", configTemplate: "Config template", saveAsTemplate: "Save as template", augmentation: "Augmentation", liveOn: "live", liveOff: "polling", split: "Split", ownSplit: "Split the dataset for this run", plots: "Plots",
    changePassword: "Change password", currentPassword: "Current password", newPassword: "New password", resetPassword: "Reset password",
    passwordChanged: "Password changed. Your sessions, tokens and API keys have ended: log in again with the new password.",
    passwordReset: "Password reset. The user's sessions, tokens and API keys have ended.",
    splitSource: "Split by", splitByRatios: "ratios", splitByFolders: "the dataset's own folders", seed: "Seed",
    defaultDataset: "Default dataset", noDefaultDataset: "— the only one —",
    defaultDatasetHint: "What old clients (create_task, POST /train) train on when their request names no dataset",
    importWeights: "Import weights", uploadWeights: "Upload", noWeights: "No weights yet.", format: "Format", task: "Task", size: "Size", metric: "Metric", tags: "Tags", tagsHint: "tags, comma-separated",
    sourceRun: "Source run", download: "Download", classes: "Classes", inputShape: "Input shape", lineage: "Lineage", metrics: "Metrics", fileDetails: "File", allFormats: "All formats", allTasks: "All tasks",
    notValidated: "Not validated yet", parentWeights: "Made from", epoch: "Epoch", saveToLibrary: "Save to library", savedToLibrary: "Saved to the weights library", serverFile: "Server file",
  },
  zh: {
    datasets: "数据集", augmentations: "数据增强", models: "模型", experiments: "实验", weights: "权重库",
    inference: "推理", system: "系统", admin: "管理", projects: "项目", settings: "设置", logout: "退出登录",
    team: "团队", login: "登录", email: "邮箱", password: "密码", loginTitle: "登录训练工作室",
    create: "创建", rename: "重命名", delete: "删除", save: "保存", cancel: "取消", name: "名称", description: "描述",
    newProject: "新建项目", noProjects: "还没有项目。", apiKeys: "API 密钥", language: "English",
    notYet: "工作室的这一部分尚未完成。在真正可用之前，这里不显示任何数据。",
    importDataset: "导入数据集", uploadZip: "上传 .zip", serverFolder: "服务器目录", importing: "导入中", statistics: "统计",
    preview: "预览", splits: "划分", resplit: "重新划分", pipelines: "增强流水线", addOp: "添加操作", renderPreview: "生成预览", noDatasets: "还没有数据集。",
    newExperiment: "新建实验", noExperiments: "还没有实验。", status: "状态", progress: "进度", start: "开始", stop: "停止", pause: "暂停", resume: "继续", clone: "克隆", compare: "对比", logs: "日志", hyperparameters: "超参数", device: "设备", dataset: "数据集", model: "模型", eta: "预计剩余", search: "搜索", bestMetrics: "最佳指标", architectures: "网络结构", newArchitecture: "新建结构", noArchitectures: "还没有网络结构。", analyze: "分析", configTemplate: "配置模板", saveAsTemplate: "另存为模板", augmentation: "数据增强", liveOn: "实时", liveOff: "轮询", split: "划分", ownSplit: "为本次训练重新划分数据集", plots: "训练图表",
    changePassword: "修改密码", currentPassword: "当前密码", newPassword: "新密码", resetPassword: "重置密码",
    passwordChanged: "密码已修改。你的会话、令牌和 API 密钥均已失效，请用新密码重新登录。",
    passwordReset: "密码已重置。该用户的会话、令牌和 API 密钥均已失效。",
    splitSource: "划分方式", splitByRatios: "按比例", splitByFolders: "按数据集自带目录", seed: "随机种子",
    defaultDataset: "默认数据集", noDefaultDataset: "— 唯一的数据集 —",
    defaultDatasetHint: "旧客户端（create_task、POST /train）请求中未指定数据集时使用的数据集",
    importWeights: "导入权重", uploadWeights: "上传", noWeights: "还没有权重。", format: "格式", task: "任务", size: "大小", metric: "指标", tags: "标签", tagsHint: "标签，用逗号分隔",
    sourceRun: "来源实验", download: "下载", classes: "类别", inputShape: "输入尺寸", lineage: "来源", metrics: "指标", fileDetails: "文件", allFormats: "全部格式", allTasks: "全部任务",
    notValidated: "尚未验证", parentWeights: "来源权重", epoch: "轮次", saveToLibrary: "保存到权重库", savedToLibrary: "已保存到权重库", serverFile: "服务器文件",
  },
} as const;

export type MessageKey = keyof (typeof messages)["en"];

const LangContext = createContext<{ lang: Lang; setLang: (l: Lang) => void }>({ lang: "en", setLang: () => {} });

/** Language: the user's choice (cookie), else the browser's (the server reads it from Accept-Language). */
export function LangProvider({ initial, children }: { initial: Lang; children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initial);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = (l: Lang) => {
    document.cookie = `studio-lang=${l}; path=/; max-age=31536000; samesite=lax`;
    setLangState(l);
  };
  return <LangContext.Provider value={{ lang, setLang }}>{children}</LangContext.Provider>;
}

export function useT() {
  const { lang, setLang } = useContext(LangContext);
  return { t: (key: MessageKey) => messages[lang][key], lang, setLang };
}
