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
    newExperiment: "New experiment", noExperiments: "No experiments yet.", status: "Status", progress: "Progress", start: "Start", stop: "Stop", pause: "Pause", resume: "Resume", clone: "Clone", compare: "Compare", logs: "Logs", hyperparameters: "Hyper-parameters", device: "Device", dataset: "Dataset", model: "Model", eta: "ETA", search: "Search", bestMetrics: "Best metrics", architectures: "Architectures", newArchitecture: "New architecture", noArchitectures: "No architectures yet.", analyze: "Analyse", configTemplate: "Config template", saveAsTemplate: "Save as template", augmentation: "Augmentation", liveOn: "live", liveOff: "polling", split: "Split", ownSplit: "Split the dataset for this run", autoBatchHint: "-1: AutoBatch picks the batch that fills 60% of the free memory", plots: "Plots",
    apiDocs: "API", apiTitle: "REST API", apiFilter: "Filter routes", apiOpen: "no login", apiParameters: "Parameters", apiRequestBody: "Request body", apiResponses: "Responses", apiError: "Error", apiNoMatch: "No route matches.",
    changePassword: "Change password", currentPassword: "Current password", newPassword: "New password", resetPassword: "Reset password",
    brand: "Training Studio", all: "all", created: "Created", images: "Images", classify: "classify", detect: "detect", train: "train", val: "val", test: "test", confirmDelete: "Delete {name}?", bestOf: "best {metric}",
    errorInvalid: "Invalid request", errorUnauthorized: "Not logged in", errorForbidden: "Not allowed", errorNotFound: "Not found", errorConflict: "Conflict", errorTooManyRequests: "Too many requests", errorTooLarge: "Too large", errorUnavailable: "Service unavailable", errorInternal: "Server error", errorNetwork: "Network error", errorGeneric: "Error", wrongLogin: "Wrong email or password", tooManyLogins: "Too many failed logins",
    studioVersion: "Studio {version}", sysDatabase: "Database", sysQueue: "Queue", sysWorkers: "Workers", sysRealtime: "Realtime", queueSchema: "pg-boss schema {schema}", workersAlive: "{count} alive", connections: "{count} connections", workerProcesses: "Worker processes", noWorkers: "No worker has registered yet.", workerKind: "Kind", host: "Host", slots: "Slots", devices: "Devices", lastHeartbeat: "Last heartbeat", secondsAgo: "{seconds} s ago",
    newUser: "New user", passwordMin: "password (8+)", studioAdmin: "studio admin", studioAdminBadge: "admin", createUser: "Create user", newTeam: "New team", teamName: "team name", createTeam: "Create team", users: "Users", teamsAndRoles: "Teams and roles", addToTeam: "Add to team", addTo: "add to…", remove: "Remove", enable: "Enable", disable: "Disable", disabled: "disabled", resetAPassword: "Reset a password", user: "User",
    apiKeysHintBefore: "Old clients send a key as", apiKeysHintAfter: ". A key acts for the team it was made in ({team}).", copyKeyNow: "Copy this key now: it is shown only once.", keyPrefix: "Prefix", lastUsed: "Last used", never: "never", revoked: "revoked", revoke: "Revoke", confirmDeleteProject: "Delete project {name}?",
    uploadFailed: "upload failed ({status})", uploadNetworkError: "upload failed: network error", importFailed: "Import of “{name}” failed: {error}", dismiss: "OK", imagesUnit: "images", formatEvidence: "Format evidence: {list}", className: "Class", instances: "Instances",
    widthStats: "Width min/median/max: {value}", heightStats: "Height: {value}", aspectStats: "Aspect: {value}", emptyAnnotations: "Empty annotations: {rate}% ({count})", tinyBoxes: "Tiny boxes: {count}", unusableLabelsCount: "Unusable labels: {count}",
    unusableLabels: "Unusable labels", corruptFiles: "Corrupt or unreadable", duplicateImages: "Duplicate images", skippedFiles: "Skipped files", ownFolders: "own folders", ratiosSeed: "ratios, seed {seed}", allSplits: "all splits", allClasses: "all classes", boxesCount: "{count} boxes", noBoxes: "no boxes", confirmDeleteDataset: "Delete {name} and its files?",
    opsCount: "{count} ops", original: "original", statusAll: "Status: all", newestFirst: "newest first", queuePosition: "queue #{position}", attempt: "attempt {attempt}", bestEpoch: "(epoch {epoch})", lossChart: "loss", metricsChart: "metrics", stepLoss: "step loss", epochAxis: "epoch", noPoints: "No points yet.",
    compareHintBefore: "Select two or more experiments on the ", compareHintLink: "list", compareHintAfter: " to compare them.",
    passwordChanged: "Password changed. Your sessions, tokens and API keys have ended: log in again with the new password.",
    passwordReset: "Password reset. The user's sessions, tokens and API keys have ended.",
    splitSource: "Split by", splitByRatios: "ratios", splitByFolders: "the dataset's own folders", seed: "Seed",
    defaultDataset: "Default dataset", noDefaultDataset: "— the only one —",
    defaultDatasetHint: "What old clients (create_task, POST /train) train on when their request names no dataset",
    importWeights: "Import weights", uploadWeights: "Upload", noWeights: "No weights yet.", format: "Format", task: "Task", size: "Size", metric: "Metric", tags: "Tags", tagsHint: "tags, comma-separated",
    sourceRun: "Source run", download: "Download", classes: "Classes", inputShape: "Input shape", lineage: "Lineage", metrics: "Metrics", fileDetails: "File", allFormats: "All formats", allTasks: "All tasks",
    validate: "Validate", speedPerImage: "Speed per image (pre / infer / post)", parity: "parity check", exportWeights: "Export",
    parityReport: "Parity report", parityPassed: "passed", parityFailed: "failed", largestDifference: "largest output difference", source: "Source", exported: "Exported",
    exporting: "Exporting: the file and its parity report appear here when the job is done.",
    notValidated: "Not validated yet", parentWeights: "Made from", epoch: "Epoch", saveToLibrary: "Save to library", savedToLibrary: "Saved to the weights library", serverFile: "Server file",
    startFrom: "Start from weights", fromScratch: "none (from scratch)",
    logScale: "Logarithmic y axis", smoothing: "smoothing", resetZoom: "Reset zoom", perImageResults: "Per-image results", confusionMatrix: "Confusion matrix", predictedAxis: "predicted", trueAxis: "true", background: "background", confidence: "Confidence", allOutcomes: "all outcomes", outcomeTp: "true positives", outcomeFp: "false positives", outcomeFn: "false negatives (missed)", legendTp: "TP: a box that found an object of its class", legendFp: "FP: a box that found none", legendFn: "FN: a missed object (dashed)", legendGt: "an object that was found (dotted)", confusionRule: "Detection cells count boxes above confidence 0.25 matched at IoU 0.45, as Ultralytics does; background is a missed object (row) or a box on nothing (column).", cellImages: "Images behind the cell predicted {predicted}, true {actual}", clearCell: "All images", prevPage: "Previous", nextPage: "Next", pageOf: "page {page} of {pages} ({total} images)", noImages: "No images.", validationSummary: "Validation #{id} on {split}, {images} images:", validationPending: "Validation #{id} is {status}: its per-image results appear when it is done.", noValidation: "No validation yet: a run's best epoch is validated on its val split when the run ends.", trueLabel: "true", predLabel: "predicted", imageGone: "This image is no longer in the dataset.",
    diffModels: "Per-image diff of two models", diffWith: "Diff per image with another model", modelA: "Model A", modelB: "Model B", chooseModel: "— choose —", regressions: "Regressions (A right, B wrong)", fixes: "Fixes (A wrong, B right)", bothWrong: "Both wrong", bothRight: "Both right", rightDetect: "An image is right at confidence {conf} when it has no false positive and no false negative there: every labelled object is found by a box of its class with IoU ≥ 0.5 and score ≥ {conf}, and no box with score ≥ {conf} is left unmatched.", rightClassify: "An image is right when top-1 is its true class.", unpaired: "{count} images were validated for only one of the two and are left out.", metricChange: "{metric}: A {a} → B {b}, change {delta} (95% interval {low} … {high}, paired bootstrap over images, {resamples} resamples)", perClass: "Per class", sideBySide: "Side by side", prCurves: "Precision-recall (latest validation on val)", recallAxis: "recall", precisionAxis: "precision", differencesOnly: "Differences only", groupBy: "Group by", noGrouping: "— no grouping —", groupRuns: "Runs", meanStd: "mean ± std", exportCsv: "Export CSV", openDiff: "Diff these two per image",
    analysing: "Analysing…", atLeast: "at least {min}", atMost: "at most {max}", autoLayout: "Auto layout", builderHint: "Drag layers from the palette; connect bottom to top; Delete, Ctrl+Z/Ctrl+Shift+Z, Ctrl+C/Ctrl+V, F fits, L lays out", builderTools: "Builder tools", collapseBlock: "Fold the block", expandBlock: "Unfold the block", copy: "Copy", defaultValue: "default", input: "Input", layerPalette: "Layers", mustBeInteger: "must be a whole number", noSettings: "No settings.", notANumber: "not a number", otherKeys: "Other keys", outputs: "Outputs", parameters: "Parameters", paste: "Paste", redo: "Redo", required: "required", searchLayers: "Search layers", storedWeights: "Stored weights", totals: "Totals", ultralyticsLine: "As Ultralytics' model.info() prints it at {imgsz}: {layers} layers, {parameters} parameters, {gradients} gradients, {gflops} GFLOPs", undo: "Undo", unknownLayerType: "The engine has no layer of this type.", zoomToFit: "Zoom to fit",
    version: "Version", savedBy: "Saved by", savedAt: "Saved", change: "Change", openVersion: "Open", codePytorch: "PyTorch", codeTfjs: "TF.js", codeYaml: "Ultralytics YAML", codeJson: "JSON", generatedCode: "Generated code", templates: "Templates", scale: "Scale", openTemplate: "Open template", ultralyticsYaml: "Ultralytics model YAML", yamlFile: "YAML file", scaleFromFile: "scale from the file", importYaml: "Import YAML", yamlText: "YAML text", pasteYaml: "…or paste a model YAML here", versionOpened: "Version {version} is open: saving it makes it the newest version.", saveAsName: "Name of the copy", architectureName: "architecture name", saveAs: "Save as…", versionHistory: "Version history", trainThis: "Train this", saved: "Saved",
    noOpsYet: "No ops yet: add one above.", pipelineJson: "JSON (view)", dragToReorder: "Drag to reorder", unknownOp: "not an op of the library", moveUp: "Move up", moveDown: "Move down", probability: "probability",
    catInput: "input", catConvolution: "convolution", catBlock: "blocks", catNormalization: "normalisation", catActivation: "activation", catPooling: "pooling", catMerge: "merge", catShape: "shape", catLinear: "linear", catRegularization: "regularisation", catHead: "heads",
    inferenceLab: "Inference", inferChooseImages: "Choose or drop images", inferConfidence: "Confidence", inferIou: "IoU", inferDownloadJson: "Download JSON", inferWebcam: "Webcam", inferStopWebcam: "Stop webcam", inferImageN: "Image {n}", inferBox: "Box", inferFps: "FPS", inferLatency: "Latency", inferNoDetections: "No detections", inferProvider: "Provider", inferNoWeights: "No ready detection or classification weights: import some on the Weights page.",
    inferServerStream: "Server stream", inferSource: "Source", inferStartStream: "Start stream", inferStopStream: "Stop stream", inferNoSources: "The server has no camera, video file under STUDIO_IMPORT_ROOTS or stream URL in STUDIO_STREAM_URLS.", inferNoFfmpeg: "ffmpeg is not installed on the server: streams cannot start.", inferStreamEnded: "Stream ended: {reason}", inferCamera: "Camera {id}", inferDropped: "{count} frames dropped", inferFrame: "frame {n}",
    fleet: "Fleet", noHosts: "No training host has registered yet.", slotsInUse: "{used} of {total} slots in use", notSampled: "not sampled", sampledAgo: "sampled {seconds} s ago", utilisation: "Utilisation", memory: "Memory", temperature: "Temperature", lastMinute: "Last minute", runsOnHost: "Runs", noRunsOnHost: "No run on this host.", anotherTeamsRun: "another team's run", queue: "Queue", queueEmpty: "No run is waiting.", run: "Run", waiting: "Waiting", priority: "Priority", setPriority: "Set",
    systemCharts: "System", noSystemSamples: "No system samples for this run: they are recorded while it trains on a sampled host, and kept 30 days.", minutesAxis: "minutes", hostCpu: "host CPU %", processCpu: "run process CPU % (of one core)", gpuUtil: "GPU %", hostMemory: "host memory %", gpuMemory: "GPU memory %", processRss: "run process memory (GiB)", processGpuMemory: "run process GPU memory (GiB)",
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
    newExperiment: "新建实验", noExperiments: "还没有实验。", status: "状态", progress: "进度", start: "开始", stop: "停止", pause: "暂停", resume: "继续", clone: "克隆", compare: "对比", logs: "日志", hyperparameters: "超参数", device: "设备", dataset: "数据集", model: "模型", eta: "预计剩余", search: "搜索", bestMetrics: "最佳指标", architectures: "网络结构", newArchitecture: "新建结构", noArchitectures: "还没有网络结构。", analyze: "分析", configTemplate: "配置模板", saveAsTemplate: "另存为模板", augmentation: "数据增强", liveOn: "实时", liveOff: "轮询", split: "划分", ownSplit: "为本次训练重新划分数据集", autoBatchHint: "-1：自动选择批大小（占用约 60% 的可用内存）", plots: "训练图表",
    apiDocs: "API", apiTitle: "REST 接口", apiFilter: "筛选接口", apiOpen: "无需登录", apiParameters: "参数", apiRequestBody: "请求体", apiResponses: "响应", apiError: "错误", apiNoMatch: "没有匹配的接口。",
    changePassword: "修改密码", currentPassword: "当前密码", newPassword: "新密码", resetPassword: "重置密码",
    brand: "训练工作室", all: "全部", created: "创建时间", images: "图片数", classify: "分类", detect: "检测", train: "训练集", val: "验证集", test: "测试集", confirmDelete: "删除 {name}？", bestOf: "最佳 {metric}",
    errorInvalid: "请求无效", errorUnauthorized: "未登录", errorForbidden: "无权操作", errorNotFound: "未找到", errorConflict: "冲突", errorTooManyRequests: "请求过于频繁", errorTooLarge: "超出大小限制", errorUnavailable: "服务暂不可用", errorInternal: "服务器内部错误", errorNetwork: "网络错误", errorGeneric: "出错了", wrongLogin: "邮箱或密码错误", tooManyLogins: "登录失败次数过多",
    studioVersion: "工作室 {version}", sysDatabase: "数据库", sysQueue: "任务队列", sysWorkers: "工作进程", sysRealtime: "实时推送", queueSchema: "pg-boss 模式 {schema}", workersAlive: "{count} 个在线", connections: "{count} 个连接", workerProcesses: "工作进程", noWorkers: "还没有工作进程注册。", workerKind: "类型", host: "主机", slots: "槽位", devices: "设备", lastHeartbeat: "最近心跳", secondsAgo: "{seconds} 秒前",
    newUser: "新建用户", passwordMin: "密码（至少 8 位）", studioAdmin: "系统管理员", studioAdminBadge: "系统管理员", createUser: "创建用户", newTeam: "新建团队", teamName: "团队名称", createTeam: "创建团队", users: "用户", teamsAndRoles: "团队与角色", addToTeam: "加入团队", addTo: "加入…", remove: "移除", enable: "启用", disable: "禁用", disabled: "已禁用", resetAPassword: "重置用户密码", user: "用户",
    apiKeysHintBefore: "旧客户端以", apiKeysHintAfter: " 的形式发送密钥。密钥代表创建它的团队（{team}）。", copyKeyNow: "请立即复制此密钥：它只显示这一次。", keyPrefix: "前缀", lastUsed: "最近使用", never: "从未", revoked: "已吊销", revoke: "吊销", confirmDeleteProject: "删除项目 {name}？",
    uploadFailed: "上传失败（{status}）", uploadNetworkError: "上传失败：网络错误", importFailed: "“{name}”导入失败：{error}", dismiss: "知道了", imagesUnit: "张图片", formatEvidence: "格式依据：{list}", className: "类别", instances: "实例数",
    widthStats: "宽度 最小/中位/最大：{value}", heightStats: "高度：{value}", aspectStats: "宽高比：{value}", emptyAnnotations: "无标注图片：{rate}%（{count}）", tinyBoxes: "极小框：{count}", unusableLabelsCount: "无效标注：{count}",
    unusableLabels: "无效标注", corruptFiles: "损坏或无法读取", duplicateImages: "重复图片", skippedFiles: "跳过的文件", ownFolders: "自带目录", ratiosSeed: "按比例，种子 {seed}", allSplits: "全部划分", allClasses: "全部类别", boxesCount: "{count} 个框", noBoxes: "无标注框", confirmDeleteDataset: "删除 {name} 及其所有文件？",
    opsCount: "{count} 个操作", original: "原图", statusAll: "状态：全部", newestFirst: "最新优先", queuePosition: "队列第 {position} 位", attempt: "第 {attempt} 次尝试", bestEpoch: "（第 {epoch} 轮）", lossChart: "损失", metricsChart: "指标", stepLoss: "步级损失", epochAxis: "轮次", noPoints: "还没有数据点。",
    compareHintBefore: "请在", compareHintLink: "实验列表", compareHintAfter: "中勾选两个或更多实验进行对比。",
    passwordChanged: "密码已修改。你的会话、令牌和 API 密钥均已失效，请用新密码重新登录。",
    passwordReset: "密码已重置。该用户的会话、令牌和 API 密钥均已失效。",
    splitSource: "划分方式", splitByRatios: "按比例", splitByFolders: "按数据集自带目录", seed: "随机种子",
    defaultDataset: "默认数据集", noDefaultDataset: "— 唯一的数据集 —",
    defaultDatasetHint: "旧客户端（create_task、POST /train）请求中未指定数据集时使用的数据集",
    importWeights: "导入权重", uploadWeights: "上传", noWeights: "还没有权重。", format: "格式", task: "任务", size: "大小", metric: "指标", tags: "标签", tagsHint: "标签，用逗号分隔",
    sourceRun: "来源实验", download: "下载", classes: "类别", inputShape: "输入尺寸", lineage: "来源", metrics: "指标", fileDetails: "文件", allFormats: "全部格式", allTasks: "全部任务",
    validate: "验证", speedPerImage: "单张耗时（预处理 / 推理 / 后处理）", parity: "一致性检查", exportWeights: "导出",
    parityReport: "一致性报告", parityPassed: "通过", parityFailed: "未通过", largestDifference: "最大输出差异", source: "原模型", exported: "导出后",
    exporting: "正在导出：任务完成后，文件和一致性报告会显示在这里。",
    notValidated: "尚未验证", parentWeights: "来源权重", epoch: "轮次", saveToLibrary: "保存到权重库", savedToLibrary: "已保存到权重库", serverFile: "服务器文件",
    startFrom: "从权重开始训练", fromScratch: "无（从头训练）",
    logScale: "对数纵轴", smoothing: "平滑", resetZoom: "重置缩放", perImageResults: "逐图结果", confusionMatrix: "混淆矩阵", predictedAxis: "预测", trueAxis: "真实", background: "背景", confidence: "置信度", allOutcomes: "全部结果", outcomeTp: "真正例（TP）", outcomeFp: "误检（FP）", outcomeFn: "漏检（FN）", legendTp: "TP：检出同类目标的框", legendFp: "FP：没有检出目标的框", legendFn: "FN：漏检的目标（虚线）", legendGt: "已被检出的目标（点线）", confusionRule: "检测的单元格按 Ultralytics 的规则统计：置信度高于 0.25 的框在 IoU 0.45 下匹配；背景行为漏检的目标，背景列为框中没有目标。", cellImages: "单元格（预测 {predicted}，真实 {actual}）中的图片", clearCell: "全部图片", prevPage: "上一页", nextPage: "下一页", pageOf: "第 {page}/{pages} 页（共 {total} 张）", noImages: "没有图片。", validationSummary: "验证 #{id}，{split}，{images} 张图片：", validationPending: "验证 #{id} {status}：完成后显示逐图结果。", noValidation: "还没有验证：训练结束后会自动在验证集上验证最佳轮次。", trueLabel: "真实", predLabel: "预测", imageGone: "该图片已不在数据集中。",
    diffModels: "两个模型的逐图对比", diffWith: "与另一模型逐图对比", modelA: "模型 A", modelB: "模型 B", chooseModel: "— 请选择 —", regressions: "退步（A 对，B 错）", fixes: "修复（A 错，B 对）", bothWrong: "都错", bothRight: "都对", rightDetect: "在置信度 {conf} 下，一张图片没有误检也没有漏检即为“对”：每个标注目标都被同类、IoU ≥ 0.5、分数 ≥ {conf} 的框检出，且没有分数 ≥ {conf} 的框落空。", rightClassify: "top-1 为真实类别即为“对”。", unpaired: "有 {count} 张图片只有其中一个模型验证过，未计入。", metricChange: "{metric}：A {a} → B {b}，变化 {delta}（95% 区间 {low} … {high}，按图片配对自助法，{resamples} 次重采样）", perClass: "按类别", sideBySide: "并排对比", prCurves: "精确率-召回率（验证集上最近一次验证）", recallAxis: "召回率", precisionAxis: "精确率", differencesOnly: "只看差异", groupBy: "分组依据", noGrouping: "— 不分组 —", groupRuns: "运行", meanStd: "均值 ± 标准差", exportCsv: "导出 CSV", openDiff: "逐图对比这两个",
    analysing: "分析中…", atLeast: "至少 {min}", atMost: "至多 {max}", autoLayout: "自动布局", builderHint: "从左侧拖入层；从下方端口连到上方端口；Delete 删除，Ctrl+Z/Ctrl+Shift+Z 撤销/重做，Ctrl+C/Ctrl+V 复制/粘贴，F 适应画布，L 自动布局", builderTools: "编辑工具", collapseBlock: "折叠模块", expandBlock: "展开模块", copy: "复制", defaultValue: "默认", input: "输入", layerPalette: "层", mustBeInteger: "必须是整数", noSettings: "无可设置项。", notANumber: "不是数字", otherKeys: "其他键", outputs: "输出", parameters: "参数量", paste: "粘贴", redo: "重做", required: "必填", searchLayers: "搜索层", storedWeights: "存储的权重数", totals: "合计", ultralyticsLine: "按 Ultralytics model.info() 在 {imgsz} 下的统计：{layers} 层，{parameters} 个参数，{gradients} 个梯度，{gflops} GFLOPs", undo: "撤销", unknownLayerType: "引擎中没有这种层。", zoomToFit: "适应画布",
    version: "版本", savedBy: "保存者", savedAt: "保存时间", change: "变化", openVersion: "打开", codePytorch: "PyTorch", codeTfjs: "TF.js", codeYaml: "Ultralytics YAML", codeJson: "JSON", generatedCode: "生成的代码", templates: "模板", scale: "规模", openTemplate: "打开模板", ultralyticsYaml: "Ultralytics 模型 YAML", yamlFile: "YAML 文件", scaleFromFile: "按文件名确定规模", importYaml: "导入 YAML", yamlText: "YAML 文本", pasteYaml: "…或在此粘贴模型 YAML", versionOpened: "已打开第 {version} 版：保存后它将成为最新版本。", saveAsName: "副本名称", architectureName: "网络结构名称", saveAs: "另存为…", versionHistory: "版本历史", trainThis: "用它训练", saved: "已保存",
    noOpsYet: "还没有操作：请在上方添加。", pipelineJson: "JSON（只读）", dragToReorder: "拖动以调整顺序", unknownOp: "不是操作库中的操作", moveUp: "上移", moveDown: "下移", probability: "概率",
    catInput: "输入", catConvolution: "卷积", catBlock: "模块", catNormalization: "归一化", catActivation: "激活", catPooling: "池化", catMerge: "合并", catShape: "形状", catLinear: "全连接", catRegularization: "正则化", catHead: "检测头",
    inferenceLab: "推理实验室", inferChooseImages: "选择或拖入图片", inferConfidence: "置信度", inferIou: "IoU", inferDownloadJson: "下载 JSON", inferWebcam: "摄像头", inferStopWebcam: "关闭摄像头", inferImageN: "图片 {n}", inferBox: "框", inferFps: "帧率", inferLatency: "延迟", inferNoDetections: "无检测结果", inferProvider: "执行设备", inferNoWeights: "没有就绪的检测或分类权重：请先在权重库页面导入。",
    inferServerStream: "服务器视频流", inferSource: "视频源", inferStartStream: "开始推理", inferStopStream: "停止推理", inferNoSources: "服务器上没有摄像头、STUDIO_IMPORT_ROOTS 下的视频文件或 STUDIO_STREAM_URLS 中的视频流地址。", inferNoFfmpeg: "服务器未安装 ffmpeg，无法开始视频流。", inferStreamEnded: "视频流已结束：{reason}", inferCamera: "摄像头 {id}", inferDropped: "已丢弃 {count} 帧", inferFrame: "第 {n} 帧",
    fleet: "集群", noHosts: "还没有训练主机注册。", slotsInUse: "已用 {used}/{total} 个槽位", notSampled: "未采样", sampledAgo: "{seconds} 秒前采样", utilisation: "利用率", memory: "内存", temperature: "温度", lastMinute: "最近一分钟", runsOnHost: "运行中的实验", noRunsOnHost: "此主机上没有运行的实验。", anotherTeamsRun: "其他团队的实验", queue: "队列", queueEmpty: "没有等待中的实验。", run: "实验", waiting: "等待时间", priority: "优先级", setPriority: "设置",
    systemCharts: "系统资源", noSystemSamples: "此实验没有系统采样：实验在已采样的主机上训练时才会记录，保留 30 天。", minutesAxis: "分钟", hostCpu: "主机 CPU %", processCpu: "实验进程 CPU %（单核）", gpuUtil: "GPU %", hostMemory: "主机内存 %", gpuMemory: "显存 %", processRss: "实验进程内存（GiB）", processGpuMemory: "实验进程显存（GiB）",
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

/** Words the server sends as values: English shows them as they are, so pages and tests read the same words. */
const zhStatuses: Record<string, string> = {
  created: "已创建", queued: "排队中", running: "运行中", pausing: "暂停中", paused: "已暂停", stopping: "停止中", stopped: "已停止", completed: "已完成", failed: "失败",
  importing: "导入中", ready: "就绪", up: "正常", down: "异常",
};
const zhRoles: Record<string, string> = { owner: "所有者", admin: "管理员", member: "成员", viewer: "查看者" };

export function useT() {
  const { lang, setLang } = useContext(LangContext);
  const inLang = (zh: Record<string, string>) => (word: string) => (lang === "zh" ? (zh[word] ?? word) : word);
  return {
    /** The message for `key`, with each `{name}` filled from `vars`. */
    t: (key: MessageKey, vars?: Record<string, string | number>): string => {
      const text: string = messages[lang][key];
      return vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : text;
    },
    statusLabel: inLang(zhStatuses),
    roleLabel: inLang(zhRoles),
    /** The server and the browser write English details: English shows the detail alone, other languages put their word for the kind of error before it. */
    withDetail: (prefix: string, detail?: string | null): string => (!detail ? prefix : lang === "en" ? detail : `${prefix}：${detail}`),
    lang,
    setLang,
  };
}
