//! Simplified Chinese (简体中文) text for every [`Key`]: the default language.

use super::Key;

/// The zh-CN text of `key`.
pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::AppTitle => "科特派",
        Key::AppTagline => "科技特派员田间助手",
        Key::SwitchLanguage => "切换语言",
        Key::SyncHeading => "同步状态",
        Key::SyncOnline => "在线",
        Key::SyncOffline => "离线",
        Key::SyncNeverSynced => "尚未同步，记录保存在本机",
        Key::SyncOfflineHint => "离线也可以记录，联网后自动同步",
        Key::NewServiceLog => "新建服务日志",
        Key::NewConsultation => "新建咨询",
        Key::ComingSoonTitle => "即将推出",
        Key::ComingSoonBody => "此功能正在开发中。",
        Key::Back => "返回",
        Key::Version => "版本",
        Key::DataDir => "数据目录",
        Key::Loading => "正在加载…",
        Key::ErrorCode => "错误代码",
        Key::ErrIpcUnavailable => "无法连接应用核心",
        Key::ErrIpcBadResponse => "应用核心返回了无法识别的数据",
        Key::ErrUnexpected => "发生意外错误",
    }
}
