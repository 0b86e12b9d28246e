//! Every piece of interface text, Chinese and English side by side: the
//! words ([`Key`]) and the marks that depend on the language ([`Mark`]:
//! units, list punctuation).

/// Declares [`Key`], `Key::ALL` and `Key::texts` from one table.
macro_rules! texts {
    ($($(#[$doc:meta])* $name:ident => $zh:literal, $en:literal;)+) => {
        /// A piece of interface text. Look it up with [`super::t`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Key {
            $($(#[$doc])* #[doc = $zh] $name,)+
        }

        impl Key {
            /// Every key, in declaration order.
            pub const ALL: &'static [Key] = &[$(Key::$name,)+];

            /// (Chinese, English).
            pub(super) const fn texts(self) -> (&'static str, &'static str) {
                match self { $(Key::$name => ($zh, $en),)+ }
            }
        }
    };
}

texts! {
    // --- App frame -------------------------------------------------------
    AppTitle => "科特派", "Ketepai";
    /// The interface language's name in itself (the language switch).
    LanguageName => "简体中文", "English";
    AppTagline => "科技特派员田间助手", "Field assistant for S&T commissioners";
    SwitchLanguage => "切换语言", "Switch language";
    Back => "返回", "Back";
    Loading => "正在加载…", "Loading…";
    Saving => "正在保存…", "Saving…";
    ErrorCode => "错误代码", "Error code";
    TabHome => "首页", "Home";
    TabRecords => "记录", "Records";
    TabConsultations => "咨询", "Questions";
    TabStats => "统计", "Statistics";
    TabSettings => "设置", "Settings";
    Version => "版本", "Version";
    DataDir => "数据目录", "Data directory";

    // --- Enrol and sign in ------------------------------------------------
    EnrolTitle => "注册本设备", "Enrol this device";
    EnrolIntro => "第一次使用需要联网，向县里的同步服务器注册。之后没有信号也能登录和记录。", "The first start needs a connection to the county's sync server. After that you can sign in and record without signal.";
    ServerAddress => "服务器地址", "Server address";
    ServerHint => "例如 192.168.1.10:8750，向县科技局管理员索取", "For example 192.168.1.10:8750; ask the county bureau's admin";
    Username => "用户名", "User name";
    Password => "密码", "Password";
    DeviceName => "设备名称（可不填）", "Device name (optional)";
    EnrolButton => "注册并登录", "Enrol and sign in";
    Enrolling => "正在连接服务器…", "Contacting the server…";
    SignInTitle => "登录", "Sign in";
    SignInGreeting => "{}，请输入密码", "{}, enter your password";
    SignInOffline => "无需联网，密码在本机核对。", "No connection needed: the password is checked on this device.";
    SignInButton => "登录", "Sign in";
    UnlockTitle => "本机数据已加锁", "This device's data is locked";
    UnlockIntro => "为保护农户信息，本机数据已加密。请输入登录密码解锁。", "The data on this device is encrypted to protect farmers' details. Enter your password to unlock it.";
    UnlockButton => "解锁", "Unlock";
    Unlocking => "正在解锁…", "Unlocking…";
    SignOut => "退出登录", "Sign out";

    // --- Home and sync ------------------------------------------------------
    Hello => "您好，{}", "Hello, {}";
    SyncHeading => "同步状态", "Sync";
    SyncOnline => "在线", "Online";
    SyncOffline => "离线", "Offline";
    SyncSyncing => "正在同步", "Syncing";
    SyncUpToDate => "全部已上传", "Everything is uploaded";
    SyncOfflineHint => "离线也可以记录，联网后自动同步", "Keep working offline; records sync once you are connected";
    SyncNotEnrolled => "本设备尚未注册，记录只保存在本机", "This device is not enrolled; records stay on it";
    PendingRecords => "待上传 {} 条记录", "Records to upload: {}";
    PendingPhotos => "照片 {} 待上传", "Photos to upload: {}";
    LastSync => "上次同步：{}", "Last sync: {}";
    NeverSynced => "尚未同步", "Not synced yet";
    SyncNow => "立即同步", "Sync now";
    SyncProgress => "进度 {}", "Progress {}";
    SyncPhaseUploadingPhotos => "正在上传照片", "Uploading photos";
    SyncPhasePushing => "正在上传记录", "Uploading records";
    SyncPhasePulling => "正在下载队友的记录", "Downloading the team's records";
    SyncRefused => "有 {} 处修改被服务器拒绝，请联系管理员", "{} changes were refused by the server; contact your admin";
    SyncStoppedRevoked => "本设备已被管理员停用。记录仍保存在本机，输入密码重新注册后继续上传", "This device was revoked by an admin. Its records are safe here; enter your password to enrol it again and sync";
    SyncStoppedExpired => "本设备的登记已过期。记录仍保存在本机，输入密码重新注册后继续上传", "This device's enrolment expired. Its records are safe here; enter your password to enrol it again and sync";
    ReEnrolButton => "重新注册本设备", "Enrol this device again";
    SyncStoppedOther => "同步已停止，请联系管理员", "Sync stopped; contact your admin";
    NewServiceLog => "新建服务日志", "New service log";
    NewConsultation => "新建咨询", "New consultation";
    TodayWork => "今天的工作", "Today's work";
    NothingToday => "今天还没有记录", "Nothing recorded today";
    OpenConsultations => "待答复咨询 {} 条", "{} questions waiting for an answer";

    // --- Service log form -----------------------------------------------------
    LogFormTitle => "服务日志", "Service log";
    EditLogTitle => "修改服务日志", "Edit service log";
    DraftRestored => "已恢复上次未填完的内容", "Restored what you had not finished";
    DiscardDraft => "清空重填", "Start over";
    DraftSavedHint => "边填边自动保存，退出也不会丢", "Saved as you type; nothing is lost if you leave";
    FieldDate => "日期", "Date";
    FieldStartTime => "开始时间", "Start time";
    FieldEndTime => "结束时间", "End time";
    FieldPlace => "服务地点", "Place";
    FieldTownship => "乡镇", "Township";
    FieldVillage => "行政村", "Village";
    PickTownship => "请选择乡镇", "Choose a township";
    PickVillage => "请选择村", "Choose a village";
    SearchVillage => "搜索村名或拼音首字母", "Search by name or pinyin initials";
    NoVillageFound => "没有找到这个村", "No such village";
    RegisterMissing => "本机还没有县里的村名单，联网同步后可选；可先填村代码", "The county's village list is not on this device yet; sync once, or type the village code";
    VillageCode => "村代码（12位）", "Village code (12 digits)";
    FieldActivity => "活动类型", "Activity";
    FieldIndustry => "产业", "Industry";
    // The common industries (a record saves the Chinese name).
    IndustryTea => "茶叶", "Tea";
    IndustryKiwifruit => "猕猴桃", "Kiwifruit";
    IndustryPotato => "马铃薯", "Potato";
    IndustryBeefCattle => "肉牛", "Beef cattle";
    IndustryMedicinalHerbs => "中药材", "Medicinal herbs";
    IndustryVegetables => "蔬菜", "Vegetables";
    FieldFarmersServed => "服务农户数", "Farmers served";
    FieldTrainees => "培训人次", "Trainees";
    FieldCooperatives => "服务的合作社", "Cooperatives served";
    FieldEnterprises => "服务的企业", "Enterprises served";
    FieldTechnologies => "推广的新技术", "Technologies promoted";
    FieldVarieties => "推广的新品种", "Varieties promoted";
    ListHint => "多个请用顿号（、）或逗号隔开", "Separate several with commas";
    FieldDescription => "工作内容", "What was done";
    FieldPhotos => "照片", "Photos";
    TakePhoto => "拍照", "Take a photo";
    ChoosePhoto => "从相册选", "Choose from album";
    ProcessingPhoto => "正在处理照片…", "Processing the photo…";
    RemovePhoto => "删除", "Remove";
    FieldLocation => "定位", "Location";
    Locating => "正在定位…", "Locating…";
    LocationOk => "已定位（精度约 {} 米）", "Located (about {} m)";
    LocateAgain => "重新定位", "Locate again";
    SubmitLog => "保存并提交", "Save and submit";
    FixErrors => "请先改正标红的内容", "Please correct the fields marked in red";
    SavedOk => "已保存，联网后自动上传", "Saved; it uploads once connected";
    SavedWithWarnings => "已保存。请注意：", "Saved. Please note:";

    // --- Field errors (from the core's FieldError codes) ------------------------
    ErrRequired => "必填", "Required";
    ErrBadCode => "代码格式不对", "Malformed code";
    ErrVillageNotInRegister => "这个村不在县里的名单上", "This village is not in the county's register";
    ErrNegativeCount => "不能是负数", "Cannot be negative";
    ErrCountTooLarge => "数字太大了", "Number too large";
    ErrBadDate => "日期格式不对", "Not a valid date";
    ErrBadTime => "时间格式不对", "Not a valid time";
    ErrEndBeforeStart => "结束时间早于开始时间", "Ends before it starts";
    ErrUnknownCode => "请从列表中选择", "Choose from the list";
    ErrTooLong => "内容太长", "Too long";
    ErrBadLocation => "定位数据无效", "Invalid position";
    ErrBadPhone => "电话号码不对", "Not a valid phone number";
    ErrOutOfOrder => "时间先后不对", "Times are out of order";
    ErrNotANumber => "请填数字", "Enter a number";

    // --- Warnings (from the core's Warning codes) ----------------------------------
    WarnNoLocation => "没有定位（本设备不能定位时可忽略）", "No location (fine if this device cannot locate)";
    WarnLocationOutsideChina => "定位在国外，可能不准", "The position is outside China; it may be wrong";
    WarnLowAccuracy => "定位精度较低", "The position is imprecise";
    WarnDateInFuture => "日期晚于今天，请检查手机时间", "The date is after today; check the phone's clock";
    WarnDateLongAgo => "日期在一年以前", "The date is more than a year ago";
    WarnTrainingWithoutTrainees => "技术培训没有填培训人次", "A training without a number of trainees";
    WarnRegisterNotLoaded => "村名单还未下载，村代码暂未核对", "The village list is not downloaded yet; the code was not checked";
    WarnGpsUnavailable => "本设备不支持定位，日志照常保存", "This device cannot locate; the log still saves";
    WarnGpsDenied => "没有定位权限，日志照常保存", "No location permission; the log still saves";

    // --- Errors (from command codes) --------------------------------------------------
    ErrUnexpected => "发生意外错误", "Something went wrong";
    ErrIpcUnavailable => "无法连接应用核心", "Cannot reach the app core";
    ErrIpcBadResponse => "应用核心返回了无法识别的数据", "The app core sent data the interface does not understand";
    ErrStoreOpen => "本机数据无法打开，请联系技术支持", "The data on this device cannot be opened; contact support";
    ErrStoreTooNew => "本机数据来自更新版本的科特派，请升级应用", "The data on this device is from a newer Ketepai; update the app";
    ErrStoreFailed => "保存到本机失败，请重试", "Saving on this device failed; try again";
    ErrNetwork => "连不上服务器，请检查地址和网络", "Cannot reach the server; check the address and the network";
    ErrBadCredentials => "用户名或密码不对", "Wrong user name or password";
    ErrRateLimited => "尝试次数太多，请15分钟后再试", "Too many attempts; try again in 15 minutes";
    ErrForbidden => "这个账号不能注册设备，请联系管理员", "This account may not enrol devices; contact your admin";
    ErrBadServer => "服务器地址格式不对", "The server address is not valid";
    ErrServerRequired => "请填服务器地址", "Enter the server address";
    ErrUsernameRequired => "请填用户名", "Enter your user name";
    ErrPasswordRequired => "请填密码", "Enter your password";
    ErrWrongPassword => "密码不对", "Wrong password";
    ErrLocked => "本机数据已加锁，请输入密码解锁", "This device's data is locked; enter your password to unlock it";
    ErrStoreKey => "本机数据的密钥丢失或损坏，请联系技术支持", "The key to this device's data is missing or damaged; contact support";
    ErrSignedOut => "请先登录", "Please sign in first";
    ErrNotFound => "找不到这条记录", "This record was not found";
    ErrNotYours => "这是别人的记录，只能查看", "This is someone else's record; you can only read it";
    ErrNotAllowed => "当前状态下不能这样操作", "Not possible in the record's current state";
    ErrPhotoCorrupt => "照片文件已损坏，无法打开，请换一张", "The photo file is damaged and cannot be opened; choose another";
    ErrPhotoTooManyPixels => "照片尺寸太大（可能是异常文件），请换一张", "The picture is far too large (perhaps a malicious file); choose another";
    ErrPhotoFileTooLarge => "照片文件超过 40 MB，请换一张", "The photo file is over 40 MB; choose another";
    ErrPhotoUnsupported => "只支持 JPG、PNG、WebP 照片", "Only JPG, PNG and WebP photos are supported";
    ErrServerError => "服务器出错，稍后会自动重试", "The server had a problem; it will retry by itself";

    // --- Records ---------------------------------------------------------------------
    RecordsTitle => "我的记录", "My records";
    SearchRecords => "搜索村名、产业、内容", "Search village, industry, text";
    ScopeMine => "我的", "Mine";
    ScopeTeam => "团队", "Team";
    NoRecords => "没有找到记录", "No records found";
    ShowMore => "显示更多", "Show more";
    PhotoCount => "{} 张照片", "{} photos";
    FarmersCount => "服务 {} 户", "{} farmers";
    Edit => "修改", "Edit";
    ReviewComment => "审核意见", "Review comment";
    PhotoNotHere => "照片在服务器上，联网后可查看", "The photo is on the server; connect to see it";
    ConflictNote => "这条记录在两台设备上被同时修改过", "This record was changed on two devices at once";
    RecordedBy => "记录人：{}", "Recorded by {}";
    Me => "我", "me";
    Teammate => "队友", "a teammate";

    // --- Consultations ---------------------------------------------------------------
    ConsultationsTitle => "农户咨询", "Farmer questions";
    ConsultationFormTitle => "新建咨询", "New question";
    EditConsultationTitle => "修改咨询", "Edit question";
    FieldFarmerName => "农户姓名", "Farmer's name";
    FieldFarmerPhone => "电话（可不填）", "Phone (optional)";
    FieldFarmerVillage => "农户所在村", "Farmer's village";
    FieldSubject => "作物或畜禽", "Crop or livestock";
    FieldProblem => "问题（农户原话）", "The problem, in the farmer's words";
    FieldChannel => "咨询方式", "How it came in";
    FieldAskedAt => "咨询时间", "Asked at";
    SaveConsultation => "保存咨询", "Save question";
    NoConsultations => "这一类没有咨询", "No questions here";
    Farmer => "农户", "Farmer";
    Problem => "问题", "Problem";
    Advice => "诊断与建议", "Diagnosis and advice";
    NotAnsweredYet => "尚未答复", "Not answered yet";
    FollowUps => "回访记录", "Follow-ups";
    NoFollowUps => "还没有回访", "No follow-ups yet";
    Answer => "答复", "Answer";
    SaveAnswer => "保存答复", "Save answer";
    FollowUp => "回访", "Follow up";
    FollowUpNote => "回访情况", "What you found";
    NeedsMore => "还需要再次回访", "Needs another visit";
    SaveFollowUp => "保存回访", "Save follow-up";
    CloseConsultation => "关闭咨询", "Close question";
    ConfirmClose => "确认关闭？关闭后不再提醒回访", "Close it? You will no longer be reminded";
    Confirm => "确认", "Confirm";
    Cancel => "取消", "Cancel";
    AskedOn => "提问时间", "Asked";
    FirstAnswerAfter => "首次答复用时", "First answer after";

    // --- Statistics ---------------------------------------------------------------------
    StatsTitle => "我的统计", "My statistics";
    ThisMonth => "本月", "This month";
    ThisQuarter => "本季度", "This quarter";
    ThisYear => "今年", "This year";
    PeriodFrom => "从", "From";
    PeriodTo => "到", "To";
    StatServiceDays => "服务天数", "Service days";
    StatVisits => "服务次数", "Visits";
    StatVillages => "覆盖行政村", "Villages covered";
    StatTownships => "覆盖乡镇", "Townships covered";
    StatFarmers => "服务农户", "Farmers served";
    StatTrainings => "培训场次", "Trainings";
    StatTrainees => "培训人次", "Trainees";
    StatTechnologies => "推广新技术", "Technologies";
    StatVarieties => "推广新品种", "Varieties";
    StatConsultations => "答复咨询", "Questions answered";
    StatMedianAnswer => "首次答复中位用时", "Median time to first answer";
    NoAnswerYet => "暂无", "None yet";
    Minutes => "{} 分钟", "{} min";
    Hours => "{} 小时", "{} h";
    Days => "{} 天", "{} days";

    // --- The team lead: review, team dashboard, scores (issue 11) ---------------------
    TabReview => "审核", "Review";
    TabTeam => "团队", "Team";
    LeadWaiting => "待审核日志 {} 条", "{} logs to review";
    LeadNoneWaiting => "没有待审核的日志", "No log waits for review";
    ReviewTitle => "待审核日志", "Logs to review";
    ReviewCount => "共 {} 条", "{} in all";
    AllMembers => "全部成员", "All members";
    AllTownships => "全部乡镇", "All townships";
    FilterMember => "成员", "Member";
    SelectAll => "全选本页", "Select this page";
    ClearSelection => "取消选择", "Clear selection";
    ApproveSelected => "通过所选 {} 条", "Approve the {} selected";
    ApprovedMany => "已通过，联网后同步", "Approved; it syncs once connected";
    QueueEmpty => "没有待审核的日志，辛苦了", "Nothing waits for review";
    ChangedSinceApproval => "审核后已修改", "Changed since approval";
    UnknownMember => "成员（名单未更新）", "Member (list not updated)";
    SelectLog => "选择这条日志", "Select this log";
    ReviewLogTitle => "审核日志", "Review a log";
    Approve => "通过", "Approve";
    ReturnLog => "退回", "Return";
    ReturnCommentLabel => "退回意见（必填）", "What to fix (required)";
    ReturnCommentHint => "写清楚要修改什么，特派员会在手机上看到", "Say what to fix; the commissioner sees it on the phone";
    ReturnNeedsComment => "退回必须填写意见", "A return needs a comment";
    SendReturn => "确认退回", "Return it";
    ApprovedOk => "已通过，联网后同步", "Approved; it syncs once connected";
    ReturnedOk => "已退回，联网后同步", "Returned; it syncs once connected";
    NextInQueue => "下一条", "Next";
    WhatChanged => "审核后修改了什么", "What changed since the decision";
    ChangeField => "项目", "Field";
    ChangeBefore => "修改前", "Before";
    ChangeAfter => "修改后", "After";
    EmptyValue => "（无）", "(none)";
    FieldServed => "服务对象", "Parties served";
    ReviewHistory => "审核记录", "Review history";
    NoReviewYet => "还没有审核记录", "Not reviewed yet";
    VerdictApproved => "通过", "approved";
    VerdictReturned => "退回", "returned";
    TeamLead => "团长", "Team lead";
    PhotosFull => "照片（原图）", "Photos (full size)";
    PhotoDownloading => "正在下载原图…", "Downloading the photo…";
    ReturnedBanner => "团长退回了这条日志", "The team lead returned this log";
    FixAndResubmit => "修改后重新提交", "Fix it and submit again";
    ReturnedHint => "请按意见修改后保存；内容没有修改，日志仍为已退回", "Change what the comment asks, then save; a log saved unchanged stays returned";
    UnchangedReturned => "内容还没有修改，请先按退回意见修改", "Nothing has changed yet: change what the comment asks first";
    ResubmittedNote => "已修改，等待团长重新审核", "Changed; waiting for the team lead again";
    ChangedAfterApprovalNote => "通过后又修改了，等待团长重新审核", "Changed after approval; waiting for the team lead again";
    TeamTitle => "团队看板", "Team dashboard";
    ThisWeek => "本周", "This week";
    ThisYearShort => "本年", "This year";
    CustomPeriod => "自定义", "Custom";
    ColMember => "成员", "Member";
    ColDays => "服务天数", "Days";
    ColVisits => "服务次数", "Visits";
    ColVillages => "行政村", "Villages";
    ColTownships => "乡镇", "Townships";
    ColFarmers => "服务农户", "Farmers";
    ColTrainings => "培训场次", "Trainings";
    ColTrainees => "培训人次", "Trainees";
    ColQuestions => "咨询 待答/已答", "Questions open/answered";
    ColLastLog => "最近日志", "Last log";
    ColLastSync => "最近同步", "Last sync";
    UnknownValue => "未知", "unknown";
    NeverValue => "从未", "never";
    SilentDays => "{} 天未记录", "{} days without a log";
    SilentNever => "尚无日志", "no log yet";
    TeamTotal => "团队合计", "Team total";
    PersonDays => "服务人天", "Person-days";
    ActivityWeekly => "每周日志数（按成员）", "Logs per week, by member";
    ActivityDaily => "每日日志数（按成员）", "Logs per day, by member";
    CoverageTitle => "行政村覆盖（对照县行政区划名单）", "Village coverage against the county register";
    CoveredVillages => "已覆盖行政村", "Villages covered";
    CoveredTownships => "已覆盖乡镇", "Townships covered";
    CoverageByTownship => "各乡镇覆盖情况", "Coverage by township";
    UncoveredTitle => "尚未覆盖的行政村", "Villages not served yet";
    AllCovered => "全部已覆盖", "all covered";
    NoRegisterHere => "本机还没有县里的村名单，联网同步后可看覆盖情况", "The county's village list is not on this device yet; sync to see coverage";
    WaitingTitle => "超过 3 天未答复的咨询", "Questions waiting more than 3 days";
    NoneWaiting => "没有超时未答复的咨询", "No question has waited too long";
    WaitingDays => "已等 {} 天", "waiting {} days";
    RosterAt => "成员名单与同步时间更新于 {}", "Members and syncs as of {}";
    RosterNever => "尚未从服务器取得成员名单，联网后自动更新", "Member names come from the server once online";
    TapForLogs => "点成员或乡镇可查看日志", "Tap a member or a township to see the logs";
    TeamReportButton => "考核得分与年度统计导出", "Scores and the annual sheet";
    LogsOf => "{}的日志", "Logs: {}";
    ScoresTitle => "考核得分", "Assessment scores";
    ScoreYear => "{} 年", "Year {}";
    ScoreRank => "名次", "Rank";
    ScoreTotal => "总分", "Total";
    ScoreCapped => "已封顶", "capped";
    ScoreValue => "数值", "Value";
    ScorePoints => "得分", "Points";
    ShowBreakdown => "得分明细", "Breakdown";
    ExportTitle => "年度统计导出", "Export the annual sheet";
    ExportXlsx => "导出 Excel 表格", "Export XLSX";
    ExportCsv => "导出 CSV 文件", "Export CSV";
    Exporting => "正在导出…", "Exporting…";
    ExportedTo => "已导出到以下文件：", "Written to:";
    ErrExport => "导出失败，请检查存储空间", "The export failed; check the storage";
    PrefetchTitle => "待审核照片", "Photos to review";
    PrefetchLabel => "在 Wi-Fi 下自动下载待审核日志的原图，离线也能审核", "Download the review queue's photos on Wi-Fi, to review offline";
    PrefetchMetered => "本设备无法判断是否连着 Wi-Fi，原图在打开日志时下载", "This device cannot tell Wi-Fi; a photo downloads when its log is opened";

    // --- Settings -------------------------------------------------------------------------
    SettingsTitle => "设置", "Settings";
    Language => "语言", "Language";
    Account => "账号", "Account";
    Role => "角色", "Role";
    Team => "团队", "Team";
    County => "服务县", "County";
    Server => "服务器", "Server";
    Device => "设备编号", "Device ID";
    AboutApp => "关于", "About";
    // --- Sign-in with a one-time password; the sync card's stops and notices ------
    SetNewPasswordTitle => "设置新密码", "Set a new password";
    SetNewPasswordIntro => "这是管理员给的一次性密码。请设置您自己的新密码（至少 8 位），以后用新密码登录。", "This is a one-time password from your admin. Set your own new password (at least 8 characters) and sign in with it from now on.";
    NewPassword => "新密码", "New password";
    RepeatPassword => "再输一次新密码", "New password again";
    PasswordsDiffer => "两次输入的新密码不一样", "The two new passwords differ";
    SetPasswordAndEnrol => "设置新密码并注册", "Set the password and enrol";
    ErrWeakPassword => "新密码至少要 8 位", "The new password needs at least 8 characters";
    ErrSamePassword => "新密码不能和原来的一样", "The new password must differ from the old one";
    ErrAccountDisabled => "这个账号已被管理员停用，请联系管理员", "This account was disabled by an admin; contact your admin";
    ErrPasswordChangeRequired => "请先设置新密码", "Set a new password first";
    SyncStoppedDisabled => "账号已被管理员停用。记录仍保存在本机，请联系管理员", "Your account was disabled by an admin. Your records are safe here; contact your admin";
    SyncStoppedUpdate => "服务器需要更新版本的应用，请升级后再同步", "The server needs a newer app; update it to sync";
    SyncStoppedUnknown => "服务器不认识本设备（服务器可能换过）。记录仍保存在本机，输入密码重新注册后继续上传", "The server does not know this device (it may have been replaced). Your records are safe here; enter your password to enrol it again and sync";
    SyncStoppedPassword => "密码已被管理员重置。输入管理员给的一次性密码和您的新密码，重新注册本设备", "An admin reset your password. Enter the one-time password and a new one to enrol this device again";
    NoticesTitle => "管理员的处理结果", "What your admin decided";
    NoticeReleased => "管理员已放行您被拒绝的修改，已上传：{}", "Your refused change was released and uploaded: {}";
    NoticeDiscarded => "管理员放弃了您对这条记录的修改：{}", "An admin discarded your change to this record: {}";
    NoticeRefusedAgain => "重新检查后仍被拒绝：{}", "Checked again and still refused: {}";
    NoticeReason => "原因：{}", "Reason: {}";
    NoticeLostEdits => "之后在本机对它的 {} 处修改依赖这次修改，也一并作废；本机已换成服务器上的版本", "{} later edits of it on this device built on that change and were lost with it; this device now shows the server's version";
    NoticeRecordGone => "服务器上没有这条记录，已从本机移除", "The server does not hold this record; it was removed from this device";
    NoticeSomeRecord => "一条记录", "a record";
    NoticeDismiss => "知道了", "Got it";

    // --- The sync admin's console (同步管理员控制台) --------------------------------
    AdmConsoleTitle => "同步管理控制台", "Sync admin console";
    AdmArea => "管理范围：{}", "Area: {}";
    AdmSecConflicts => "冲突", "Conflicts";
    AdmSecDuplicates => "重复记录", "Duplicates";
    AdmSecQuarantine => "隔离区", "Quarantine";
    AdmSecDevices => "设备", "Devices";
    AdmSecPeople => "用户与团队", "Users and teams";
    AdmSecAudit => "审计日志", "Audit log";
    AdmSecStats => "统计", "Statistics";
    AdmSecSettings => "设置", "Settings";
    AdmServerUnreachable => "连不上同步服务器。这一页需要联网；您填写的内容都保留着，恢复连接后点“重试”。", "The sync server cannot be reached. This page needs it; what you typed is kept. Press Retry once connected.";
    AdmRetry => "重试", "Retry";
    AdmRefresh => "刷新", "Refresh";
    AdmPrevPage => "上一页", "Previous";
    AdmNextPage => "下一页", "Next";
    AdmFirstPage => "回到第一页", "First page";
    AdmPageInfo => "第 {} 页", "Page {}";
    AdmOnPage => "本页 {} 条", "{} on this page";
    AdmMoreFollow => "后面还有", "more follow";
    AdmAll => "全部", "All";
    AdmNothing => "没有符合条件的内容", "Nothing matches";
    AdmDaysAgo => "{} 天前", "{} days ago";
    AdmHoursAgo => "{} 小时前", "{} h ago";
    AdmMinutesAgo => "{} 分钟前", "{} min ago";
    AdmJustNow => "刚才", "just now";
    AdmNever => "从未", "never";
    AdmEmptyValue => "（空）", "(empty)";
    AdmKindLog => "服务日志", "Service log";
    AdmKindConsultation => "农户咨询", "Consultation";
    AdmKind => "记录类型", "Kind";
    AdmCountyCode => "县（代码）", "County (code)";
    AdmWorking => "正在处理…", "Working…";
    AdmDone => "已完成", "Done";
    AdmCancel => "取消", "Cancel";
    AdmColRecord => "记录", "Record";
    AdmColAuthor => "作者", "Author";
    AdmColTeam => "团队", "Team";
    AdmColCounty => "县", "County";
    AdmColWaiting => "等待", "Waiting";
    AdmColDevice => "设备", "Device";
    AdmColUser => "用户", "User";
    AdmColTime => "时间", "Time";
    AdmColReason => "原因", "Reason";
    AdmColState => "状态", "State";

    // Conflicts
    AdmConflictsFromServer => "来自服务器：您管理范围内的全部记录，每个值都注明来自哪台设备、哪个人", "From the server: every record in your area, each value with the device and person it came from";
    AdmConflictsFromDevice => "离线：只列出本机上的记录，来源信息较少。解决照常保存在本机，联网后同步", "Offline: records on this device only, with less about each value's source. Resolutions save here and sync once connected";
    AdmWaitingLonger => "等待超过", "Waiting longer than";
    AdmAnyAge => "不限", "Any";
    AdmFieldsToResolve => "{} 个字段待解决", "{} fields to resolve";
    AdmPickRecord => "在左侧选择一条记录，并排查看各个值", "Choose a record on the left to see its values side by side";
    AdmShownNow => "当前显示", "Shown now";
    AdmFromDevice => "设备：{}", "Device: {}";
    AdmByPerson => "填写人：{}", "By {}";
    AdmWrittenAt => "写入时间：{}", "Written {}";
    AdmSourceUnknown => "来源设备未知（离线时本机无法得知）", "Source device unknown (this device cannot tell offline)";
    AdmTheAuthor => "记录作者", "the record's author";
    AdmKeepValue => "采用这个值", "Keep this value";
    AdmTypeNewValue => "或者填写新值", "Or type a new value";
    AdmSaveNewValue => "保存新值", "Save the new value";
    AdmNewValueHint => "按原来的格式填写：数字、文字或日期", "In the field's own form: a number, text or a date";
    AdmFieldsLeft => "这条记录还有 {} 个字段待解决", "{} fields of this record left to resolve";
    AdmAllResolved => "这条记录的冲突已全部解决；解决结果作为普通修改同步到所有设备", "Every conflict of this record is resolved; the resolution syncs to every device as an ordinary change";
    AdmRecordAround => "记录内容", "The record";
    AdmHistory => "处理记录", "History";
    AdmNoHistory => "还没有处理记录", "Nothing recorded yet";
    AdmResolutionLine => "{} 解决了冲突", "{} resolved a conflict";
    AdmSuperseded => "被替换的值：{}", "Superseded: {}";
    AdmChosen => "采用：{}", "Chosen: {}";
    AdmDecisionApproved => "审核通过", "Approved";
    AdmDecisionReturned => "退回", "Returned";
    AdmOpenedOffline => "离线：显示的是本机上的副本；解决后联网同步", "Offline: this device's copy; the resolution syncs once connected";
    AdmNotOnThisDevice => "本机没有这条记录，需联网后才能打开", "This record is not on this device; connect to open it";
    AdmFieldStatus => "审核状态", "Review status";
    AdmChangedSinceApproval => "审核后已修改", "Changed since approval";
    AdmFieldDuplicate => "重复标记", "Duplicate mark";
    AdmFieldServed => "服务对象", "Parties served";
    AdmFieldTeam => "所属团队", "Team";
    AdmFieldCreatedAt => "创建时间", "Created";
    AdmFieldUpdatedAt => "修改时间", "Last changed";
    AdmFieldRevokedAt => "停用时间", "Revoked";
    AdmFieldMustChange => "须改密码", "Must change password";
    AdmFieldActive => "账号启用", "Account enabled";
    AdmFieldName => "名称", "Name";
    AdmFieldUsername => "登录名", "Sign-in name";
    AdmFieldLeadingIndustry => "主导产业", "Leading industry";
    AdmFieldReviewBy => "审核人", "Reviewed by";
    AdmFieldReviewAt => "审核时间", "Reviewed at";
    AdmFieldStored => "已保存的修改", "Changes stored";
    AdmFieldStillOpen => "仍在隔离", "Still quarantined";
    AdmFieldStillRefused => "仍被拒绝", "Still refused";
    AdmYes => "是", "Yes";
    AdmNo => "否", "No";
    AdmFieldKindTech => "技术", "Technology";

    // Duplicates
    AdmDupIntro => "同一作者、同一天、同一村、内容相似的两条记录。保留一条，把另一条标为重复：它不再计入统计，但不会被删除。", "Two records by one author, of one day, in one village, with similar text. Keep one and mark the other as its duplicate: it leaves the statistics but is never deleted.";
    AdmDupOnDevice => "列出本机上的记录；标记在本机保存，联网后同步", "Lists the records on this device; marks save here and sync once connected";
    AdmSimilarity => "相似度 {}%", "{}% alike";
    AdmKeepLeft => "保留左边，右边标为重复", "Keep the left, mark the right";
    AdmKeepRight => "保留右边，左边标为重复", "Keep the right, mark the left";
    AdmMadeAt => "创建于 {}", "Made {}";
    AdmMarkedTitle => "已标为重复", "Marked as duplicates";
    AdmUnmark => "取消重复标记", "Clear the mark";
    AdmNoDuplicates => "没有疑似重复的记录", "No possible duplicates";
    AdmNoMarked => "还没有标为重复的记录", "No records marked yet";
    AdmMarkedDone => "已标为重复，不再计入统计", "Marked; it no longer counts";
    AdmUnmarkedDone => "已取消重复标记", "The mark is cleared";

    // Quarantine
    AdmQOpen => "待处理", "Open";
    AdmQReleased => "已放行", "Released";
    AdmQDiscarded => "已放弃", "Discarded";
    AdmQIntro => "服务器拒绝的修改都保存在这里，不会丢失。按今天的规则重新检查后放行，或者写明原因后放弃（会告知该设备的用户）。", "Every change the server refused is kept here, never lost. Check it again under today's rules and release it, or discard it with a reason (the device's user is told).";
    AdmChanges => "{} 处修改", "{} changes";
    AdmWrites => "这次修改想写入", "What the change tries to write";
    AdmField => "字段", "Field";
    AdmBefore => "服务器上的值", "On the server";
    AdmAfter => "想改成", "Would become";
    AdmHiddenWrite => "被同时写入的另一个值盖住，不显示", "Hidden behind a concurrent value";
    AdmUndecoded => "无法解读这次修改：{}", "This change cannot be decoded: {}";
    AdmNotOnServer => "服务器上还没有这条记录（新建的记录被拒绝）", "The server does not hold this record (its creation was refused)";
    AdmRelease => "重新检查并放行", "Check again and release";
    AdmReleaseHint => "按今天的规则重新检查，例如用户已被调到正确的团队之后", "Checked under today's rules, for example after the user was moved to the right team";
    AdmDiscard => "放弃", "Discard";
    AdmDiscardReason => "放弃原因（会告知该用户）", "Reason (the user is told)";
    AdmDiscardConfirm => "确认放弃", "Discard with this reason";
    AdmReasonRequired => "请写明放弃的原因", "Give a reason";
    AdmReleasedStored => "已放行并保存 {} 处修改", "{} changes released and stored";
    AdmReleasedDuplicate => "{} 处服务器已有", "{} the server already had";
    AdmStillRefused => "仍被拒绝 {} 处：", "{} still refused:";
    AdmStillOpen => "这条记录对该设备仍在隔离中", "The record stays quarantined for this device";
    AdmDiscardedDone => "已放弃 {} 处修改，已通知该设备", "{} changes discarded; the device is told";
    AdmDiscardedBecause => "放弃原因：{}", "Discarded because: {}";
    AdmResolvedAt => "处理时间：{}", "Decided {}";

    // Devices
    AdmColName => "设备名称", "Name";
    AdmColPlatform => "平台", "Platform";
    AdmColVersion => "版本", "Version";
    AdmColLastSeen => "最后联系", "Last contact";
    AdmColLastPush => "最后上传", "Last push";
    AdmColLastPull => "最后下载", "Last pull";
    AdmColBacklog => "待上传", "Unsent";
    AdmColFlags => "提示", "Flags";
    AdmFlagSilent => "超过 7 天未联系", "Silent over 7 days";
    AdmFlagBacklog => "待上传在增加", "Backlog growing";
    AdmRevokedOn => "已停用 {}", "Revoked {}";
    AdmBacklog => "{} 处修改", "{} changes";
    AdmOldestWaiting => "最早的已等 {}", "oldest waiting {}";
    AdmNoticesWaiting => "{} 条通知未取", "{} notices not collected";
    AdmFlaggedOnly => "只看有提示的", "Flagged only";
    AdmStateActive => "使用中", "Active";
    AdmStateRevoked => "已停用", "Revoked";
    AdmRevoke => "停用", "Revoke";
    AdmRevokeConfirm => "停用后这台设备不能再同步。设备上的记录不会丢失：其用户输入密码即可重新注册并继续上传。确认停用 {}？", "Once revoked this device cannot sync. Nothing on it is lost: its user enrols it again with their password and it uploads as before. Revoke {}?";
    AdmRevokeDone => "已停用，该设备下次同步时会提示用户", "Revoked; the device tells its user at its next sync";

    // Users and teams
    AdmUsers => "用户", "Users";
    AdmTeams => "团队", "Teams";
    AdmNewUser => "新建用户", "New user";
    AdmNewTeam => "新建团队", "New team";
    AdmDisplayName => "姓名", "Name";
    AdmScope => "数据范围", "Scope";
    AdmScopeOwn => "仅本人", "Own records";
    AdmScopeTeam => "本团队", "The team";
    AdmScopeCounty => "县 {}", "County {}";
    AdmScopeProvince => "省 {}", "Province {}";
    AdmProvinceCode => "省（代码）", "Province (code)";
    AdmActive => "正常", "Active";
    AdmDisabled => "已停用", "Disabled";
    AdmMustChange => "待设新密码", "Must set a password";
    AdmManage => "管理", "Manage";
    AdmDisable => "停用账号", "Disable";
    AdmEnable => "启用账号", "Enable";
    AdmResetPassword => "重置密码", "Reset password";
    AdmMoveTo => "调到团队", "Move to team";
    AdmMove => "调动", "Move";
    AdmChangeScope => "修改数据范围", "Change scope";
    AdmSave => "保存", "Save";
    AdmCreate => "创建", "Create";
    AdmSearchUsers => "搜索用户名或姓名", "Search user or shown name";
    AdmLeadingIndustry => "主导产业", "Leading industry";
    AdmTeamName => "团队名称", "Team name";
    AdmTeamLead => "团长", "Team lead";
    AdmNoLead => "暂不指定", "None yet";
    AdmMembers => "{} 人", "{} members";
    AdmPickTeam => "请选择团队", "Choose a team";
    AdmOtpTitle => "一次性密码", "One-time password";
    AdmOtpFor => "{} 的一次性密码", "One-time password for {}";
    AdmOtpShownOnce => "只显示这一次，关闭后无法再查看。请抄下或复制后当面交给对方；对方第一次登录时会被要求设置自己的新密码。", "Shown only now: once closed it cannot be seen again. Write it down or copy it and hand it over in person; they set their own password at first sign-in.";
    AdmOtpCopy => "复制", "Copy";
    AdmOtpCopyHint => "复制后粘贴到安全的地方，不要通过群聊发送", "Paste it somewhere safe; do not send it in a group chat";
    AdmOtpClose => "我已记下，关闭", "I have it; close";
    AdmUserCreated => "已创建用户 {}", "User {} created";
    AdmTeamCreated => "已创建团队 {}", "Team {} created";
    AdmUserSaved => "已保存 {}", "{} saved";
    AdmConfirmDisable => "停用后 {} 的所有设备都不能再同步。确认停用？", "All devices of {} stop syncing. Disable?";
    AdmConfirmReset => "重置后旧密码仍可在已注册的设备上离线登录，新设备需要用一次性密码。确认重置 {} 的密码？", "Devices already enrolled keep working; a new device needs the one-time password. Reset the password of {}?";

    // Audit
    AdmActor => "操作人", "Actor";
    AdmAction => "操作", "Action";
    AdmSubject => "对象", "Subject";
    AdmFrom => "从", "From";
    AdmTo => "到", "To";
    AdmDetail => "前后变化", "Before and after";
    AdmOperator => "服务器操作员", "Server operator";
    AdmExportCsv => "导出 CSV", "Export CSV";
    AdmExported => "已导出到 {}", "Exported to {}";
    AdmExportTruncated => "符合条件的条目太多，只导出了前 100000 条", "Too many entries matched; the first 100,000 were exported";
    AdmSubjectHint => "用户、设备或记录的编号", "ID of a user, device or record";
    AdmActTeamCreate => "创建团队", "Team created";
    AdmActUserCreate => "创建用户", "User created";
    AdmActUserMove => "调动团队", "User moved";
    AdmActUserScope => "修改数据范围", "Scope changed";
    AdmActUserDisable => "停用账号", "Account disabled";
    AdmActUserEnable => "启用账号", "Account enabled";
    AdmActPasswordReset => "重置密码", "Password reset";
    AdmActPasswordChange => "用户设置新密码", "Password changed by the user";
    AdmActDeviceEnrol => "注册设备", "Device enrolled";
    AdmActDeviceReplace => "设备重新注册", "Device enrolled again";
    AdmActDeviceRevoke => "停用设备", "Device revoked";
    AdmActRelease => "放行隔离的修改", "Quarantine released";
    AdmActDiscard => "放弃隔离的修改", "Quarantine discarded";
    AdmActCountyTag => "设置县标签", "County tagged";
    AdmActCountyUntag => "取消县标签", "County untagged";
    AdmActAdminWrite => "管理员修改记录", "Record written by an admin";
    AdmActRegisterImport => "导入区划名单", "Register imported";
    AdmFamilyUsers => "用户", "Users";
    AdmFamilyDevices => "设备", "Devices";
    AdmFamilyQuarantine => "隔离区", "Quarantine";
    AdmFamilyRecords => "记录", "Records";

    // Errors of the console's server answers
    ErrUsernameTaken => "这个用户名已被占用", "This user name is taken";
    ErrInvalidUsername => "用户名不能有空格，最长 64 个字", "A user name has no spaces and at most 64 characters";
    ErrInvalidDisplayName => "请填写姓名", "Enter the name";
    ErrInvalidScope => "数据范围不对", "This scope is not possible";
    ErrInvalidTeam => "请选择一个管理范围内的团队", "Choose a team of your area";
    ErrInvalidRole => "这个角色不对", "Not a valid role";
    ErrInvalidLead => "团长必须是管理范围内的用户", "The lead must be a user of your area";
    ErrInvalidTeamName => "请填写团队名称", "Enter the team's name";
    ErrInvalidIndustry => "请填写主导产业", "Enter the leading industry";
    ErrUnknownCounty => "没有这个县代码", "No county has this code";
    ErrTeamRequired => "科技特派员和团长必须属于一个团队", "Commissioners and team leads need a team";
    ErrReasonRequired => "请写明原因（最多 500 字）", "Give a reason (at most 500 characters)";
    ErrNotQuarantined => "这条记录已不在隔离区，可能刚被处理过", "This record is no longer quarantined; it may have just been decided";
    ErrCannotDisableSelf => "不能停用自己的账号", "You cannot disable your own account";
    ErrOutOfScope => "超出了您的管理范围", "Beyond your area";
    ErrAdminNotFound => "在您的管理范围内找不到", "Not found in your area";
    ErrExportFailed => "导出文件写入失败，请检查磁盘空间", "The export could not be written; check the disk space";
    ErrBadCursor => "列表已经变了，请回到第一页", "The list changed; go back to the first page";
    ErrConflictGone => "这个字段已经没有冲突了（可能刚被别人解决）", "This field has no conflict any more (someone may have just resolved it)";
    ErrBadValue => "这个值不符合字段的格式", "This value does not fit the field";

    // The console's statistics (统计)
    AdmStatsLastYear => "去年", "Last year";
    AdmStatsRowsBy => "按哪一级列出", "Rows by";
    AdmStatsCounty => "县（区）", "County";
    AdmStatsAllCounties => "全省所有县", "Every county of the province";
    AdmStatsByPrefecture => "市", "Prefecture";
    AdmStatsByCounty => "县", "County";
    AdmStatsByTeam => "团队", "Team";
    AdmStatsByCommissioner => "特派员", "Commissioner";
    AdmStatsTagPoverty => "只看 832 个脱贫县", "Only the 832 poverty-alleviated counties";
    AdmStatsTagKey => "只看 160 个国家乡村振兴重点帮扶县", "Only the 160 national key counties";
    AdmStatsFiguresTitle => "工作统计", "Figures";
    AdmStatsTotal => "合计", "Total";
    AdmStatsColActive => "活跃特派员", "Active commissioners";
    AdmStatsColTrainings => "培训 场次/人次", "Trainings / trainees";
    AdmStatsColVillages => "覆盖行政村 已覆盖/名单", "Villages covered / register";
    AdmStatsColShare => "覆盖率", "Share covered";
    AdmStatsColQuestions => "咨询 已答/总数", "Questions answered / asked";
    AdmStatsNoRows => "这段时间没有统计到记录", "No records counted in this period";
    AdmStatsUncovered => "尚未覆盖的行政村 {} 个（见导出的表格）", "{} villages not covered yet (listed in the export)";
    ErrServerBusy => "服务器正忙，请稍后再试", "The server is busy; try again in a moment";
    ErrUploadQuota => "未传完的照片已达服务器上限，稍后会自动重试", "Too many unfinished photo uploads on the server for now; they will be tried again later";
    ErrTruncatedChange => "这次被拒的修改太大，服务器只留下了开头，无法放行；请弃用并说明原因", "This refused change was too large: the server kept only its start and cannot release it; discard it with a reason";
}

/// Units and punctuation that depend on the language. They are not words,
/// so they are kept apart from [`Key`] (whose Chinese must be Chinese); a
/// unit's symbol may be the same in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mark {
    /// Between the items of a list shown on one line.
    ListSeparator,
    /// A size in bytes.
    Bytes,
    /// A size in kilobytes.
    Kilobytes,
    /// A size in megabytes.
    Megabytes,
}

impl Mark {
    /// Every mark, in declaration order.
    pub const ALL: &'static [Mark] = &[
        Mark::ListSeparator,
        Mark::Bytes,
        Mark::Kilobytes,
        Mark::Megabytes,
    ];

    /// (Chinese, English).
    pub(super) const fn texts(self) -> (&'static str, &'static str) {
        match self {
            Mark::ListSeparator => ("、", ", "),
            Mark::Bytes => ("{} B", "{} B"),
            Mark::Kilobytes => ("{} KB", "{} KB"),
            Mark::Megabytes => ("{} MB", "{} MB"),
        }
    }
}
