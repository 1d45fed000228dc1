/*!
 * Seller console: a store's seller admins set the assistant's words and rules.
 * No dependencies, no build step; seller.html holds the skeleton, this file
 * fills it from the JSON API under /seller/api.
 *
 * Safety: the page is served with a strict CSP (no inline script or style).
 * Everything from the server (templates, previews, names) reaches the page
 * through textContent and setAttribute only; nothing is parsed as HTML.
 *
 * Languages: every console text is in STRINGS, in English and Simplified
 * Chinese; the choice is kept in localStorage. The shopper-facing templates
 * are the seller's own text and are never translated.
 */
(function () {
  'use strict';

  var doc = document;
  var API = '/seller/api';
  var LANG_KEY = 'seller-console-lang';
  var PREVIEW_DELAY_MS = 300;

  var STRINGS = {
    en: {
      'page.title': 'Seller console',
      'boot.loading': 'Loading the seller console…',
      'alert.dismiss': 'Dismiss this message',
      'login.title': 'Seller console',
      'login.lead': 'Sign in with your seller admin account to set how the assistant speaks for your store.',
      'login.email': 'Email',
      'login.password': 'Password',
      'login.submit': 'Sign in',
      'login.signingIn': 'Signing in…',
      'login.missing': 'Enter your email and password.',
      'login.wrong': 'Wrong email or password.',
      'login.throttled': 'Too many failed sign-ins. Try again in {s} seconds.',
      'console.brand': 'Seller console',
      'console.store': 'Store',
      'console.logout': 'Sign out',
      'console.switchConfirm': 'Switch stores? Your unsaved changes will be lost.',
      'console.noStoresTitle': 'No store to administer',
      'console.noStores': "This account is not a seller admin of any store. Ask the store's owner to make you one.",
      'templates.heading': 'Message templates',
      'templates.lead': "What the assistant says to shoppers at each step. Shoppers see exactly what you type; click a placeholder to insert it. The preview uses your store's latest order.",
      'templates.placeholders': 'Placeholders',
      'templates.insert': 'Insert {name}: {description}',
      'templates.preview': 'Preview',
      'templates.previewLoading': 'Updating the preview…',
      'templates.previewFailed': 'The preview is not available right now.',
      'templates.changed': 'Changed',
      'templates.reset': 'Undo changes',
      'templates.error': 'This template cannot be saved: {message}',
      'review.heading': 'Review invitations',
      'review.delay': 'Days after delivery',
      'review.delayHint': 'From 5 to 30 days.',
      'review.reminder': 'Send one reminder',
      'review.url': 'Review link',
      'review.urlHint': 'Leave empty for none. May use {order_number} and {sku}.',
      'escalation.heading': 'Handoff to your team',
      'escalation.reasons': 'Hand these cases to a person',
      'escalation.hours': 'Business hours',
      'escalation.hoursHint': 'Like 09:00-12:00, 13:30-18:00. Leave a day empty when closed.',
      'escalation.timezone': '(time zone {tz})',
      'escalation.closed': 'closed',
      'escalation.replyTime': 'Usual reply time (minutes)',
      'save.heading': 'Changes',
      'save.button': 'Save',
      'save.saving': 'Saving…',
      'save.discard': 'Discard changes',
      'save.hint': 'A saved change applies to the next message, with no restart.',
      'save.none': 'No unsaved changes. Current version: {v}.',
      'save.pending': 'Unsaved changes: {n}.',
      'save.saved': 'Saved as version {v}.',
      'save.fixFirst': 'Fix the errors marked in red first.',
      'save.error': 'Nothing was saved: {message}',
      'history.heading': 'History',
      'history.version': 'Version {v}',
      'history.current': 'Current',
      'history.rollback': 'Roll back to this version',
      'history.rolledBack': 'Rolled back: version {v} is now current.',
      'history.confirm': 'Roll back to version {v}? Your unsaved changes will be lost.',
      'history.asImported': 'As imported',
      'history.rolledBackTo': 'Rolled back to version {v}',
      'history.changed': 'Changed: {what}',
      'history.noChange': 'No change',
      'history.empty': 'No changes yet: the store is as imported.',
      'history.by': 'by {who}',
      'history.system': 'import',
      'error.session': 'Your session has ended. Please sign in again.',
      'error.network': 'The server cannot be reached. Check your connection and try again.',
      'error.server': 'Something went wrong on the server ({status}). Try again.',
      'error.csrf': 'This page is out of date. Reload it and try again.',
      'field.templates': 'templates',
      'field.review.delay_days': 'days after delivery',
      'field.review.reminder': 'reminder',
      'field.review.url': 'review link',
      'field.escalation.reasons': 'handoff cases',
      'field.escalation.business_hours': 'business hours',
      'field.escalation.reply_time_minutes': 'reply time',
      'tabs.label': 'Console sections',
      'tabs.settings': 'Messages & settings',
      'tabs.guides': 'Product guides',
      'tabs.team': 'Team & security',
      'tabs.test': 'Test conversation',
      'common.copy': 'Copy',
      'common.copied': 'Copied.',
      'common.copyFailed': 'Copying does not work here: select the text and copy it yourself.',
      'common.cancel': 'Cancel',
      'common.done': 'I have copied it, hide it',
      'common.loading': 'Loading…',
      'common.openLink': '{url} (opens in a new tab)',
      'guides.heading': 'Product guides',
      'guides.lead': 'The manual, install video and steps the assistant sends when a shopper asks how to fit a product. A saved change reaches the next shopper who asks.',
      'guides.products': 'Products',
      'guides.noProducts': 'This store has no products yet.',
      'guides.pick': 'Choose a product to edit its guide.',
      'guides.stepCount.one': '1 step',
      'guides.stepCount.many': '{n} steps',
      'guides.stepCount.none': 'no steps',
      'guides.version': 'Version {v}',
      'guides.asImported': 'As imported',
      'guides.manual': 'Installation manual',
      'guides.manualUrl': 'Manual link',
      'guides.manualHint': 'A link to a PDF, or upload one below. Leave empty for none.',
      'guides.currentManual': 'Shoppers get:',
      'guides.currentVideo': 'Shoppers get:',
      'guides.noLink': 'nothing yet',
      'guides.upload': 'Upload a PDF…',
      'guides.uploadHint': 'A PDF file of at most 10 MB. Once uploaded, it is the manual straight away.',
      'guides.uploading': 'Uploading {name}…',
      'guides.uploaded': 'Uploaded {name} ({size}): shoppers now get this manual.',
      'guides.notPdf': '“{name}” is not a PDF file. Choose the manual as a PDF.',
      'guides.tooBig': '“{name}” is {size}: a manual can be at most 10 MB.',
      'guides.emptyFile': '“{name}” is empty.',
      'guides.uploadFailed': 'The manual was not uploaded: {message}',
      'guides.video': 'Install video',
      'guides.videoUrl': 'Video link',
      'guides.videoHint': 'A link to the video, on your own site or a video site. Leave empty for none.',
      'guides.steps': 'Install steps',
      'guides.stepsHint': 'One instruction per step, in order: the assistant sends them as a numbered list. Enter starts a new step; pasting several lines adds several steps.',
      'guides.step': 'Step {n}',
      'guides.stepUp': 'Move step {n} up',
      'guides.stepDown': 'Move step {n} down',
      'guides.stepRemove': 'Remove step {n}',
      'guides.addStep': 'Add a step',
      'guides.noSteps': 'No steps yet.',
      'guides.maxSteps': 'A guide can have at most {n} steps.',
      'guides.save': 'Save guide',
      'guides.discard': 'Discard changes',
      'guides.saving': 'Saving…',
      'guides.pending': 'Unsaved changes.',
      'guides.none': 'No unsaved changes.',
      'guides.saved': 'Saved as version {v}.',
      'guides.restored': 'Version {old} restored (saved as version {v}).',
      'guides.error': 'Nothing was saved: {message}',
      'guides.leaveConfirm': 'Leave this guide? Your unsaved changes to it will be lost.',
      'guides.restoreConfirm': 'Restore version {v}? Your unsaved changes to this guide will be lost.',
      'guides.history': 'Guide history',
      'guides.historyEmpty': 'No changes yet: the guide is as imported.',
      'guides.restore': 'Restore',
      'guides.restoreLabel': 'Restore version {v}',
      'guides.summary.asImported': 'As imported',
      'guides.summary.changed': 'Changed: {what}',
      'guides.summary.restored': 'Restored version {v}',
      'guides.summary.uploaded': 'Uploaded the manual {name}',
      'guides.summary.noChange': 'No change',
      'guides.field.manual_url': 'manual link',
      'guides.field.video_url': 'video link',
      'guides.field.install_steps': 'install steps',
      'guides.field.guide': 'guide',
      'secrets.heading': 'Secrets',
      'secrets.lead': 'Keys that prove a message really comes from your store or your carrier. For your safety a secret is shown only once, right after it is made. Rotate one if it may have leaked, or when someone who knew it leaves.',
      'secrets.shopper.title': 'Shopper sign-in secret',
      'secrets.shopper.what': "Your store's pages use it to sign the shopper's email, so the assistant knows who is chatting and can look up their orders without asking.",
      'secrets.shopper.where': "After rotating, put the new secret in your store site's chat settings.",
      'secrets.webhook.title': 'Tracking webhook secret',
      'secrets.webhook.what': 'Your carrier or tracking service uses it to sign the delivery updates it sends, so the assistant only believes real ones.',
      'secrets.webhook.where': "After rotating, put the new secret in your tracking service's webhook settings.",
      'secrets.set': 'Set',
      'secrets.notSet': 'Not set',
      'secrets.previous': 'The previous secret still works until {when}.',
      'secrets.grace': 'Keep the old secret working for (hours)',
      'secrets.graceHint': 'From 0 to 168 hours (7 days). With 0, the old secret stops working at once.',
      'secrets.graceBad': 'Enter a whole number of hours from 0 to 168.',
      'secrets.rotate': 'Rotate secret…',
      'secrets.create': 'Create secret…',
      'secrets.confirmFirst': 'Make a secret now? It is shown only once, right after.',
      'secrets.first': 'There was no secret before: nothing else needs to switch over.',
      'secrets.confirmText': 'Make a new secret now? The current one keeps working for {h} hours, then only the new one does.',
      'secrets.confirmTextNow': 'Make a new secret now? The current one stops working at once: anything signed with it is refused until you switch.',
      'secrets.confirm': 'Yes, rotate now',
      'secrets.rotating': 'Rotating…',
      'secrets.newSecret': 'New secret',
      'secrets.once': 'Copy it now: for your safety it will not be shown again.',
      'secrets.until': 'The old secret keeps working until {when}.',
      'secrets.untilNone': 'The old secret no longer works.',
      'secrets.failed': 'The secret was not rotated: {message}',
      'team.heading': 'Team',
      'team.lead': 'Who can sign in for this store. Support agents answer shoppers in the support console; seller admins can also use this console.',
      'team.caption': "This store's team",
      'team.name': 'Name',
      'team.email': 'Email',
      'team.role': 'Role',
      'team.actions': 'Actions',
      'team.role.agent': 'Support agent',
      'team.role.seller_admin': 'Seller admin',
      'team.you': 'You',
      'team.remove': 'Remove',
      'team.removeConfirm': 'Remove {name}? They can no longer sign in for this store.',
      'team.removeYes': 'Yes, remove',
      'team.removed': '{name} was removed from the team.',
      'team.empty': 'No one yet.',
      'jobs.heading': 'Messages that did not go out',
      'jobs.lead': 'The assistant tries each store message (delivery confirmations, notices, review invitations) and each unanswered shopper message again for about two and a half hours, then gives up and lists it here. Try one again once the cause is fixed; nothing is ever sent twice.',
      'jobs.caption': 'Failed messages of this store',
      'jobs.what': 'Message',
      'jobs.about': 'Order',
      'jobs.reason': 'Why',
      'jobs.when': 'Failed',
      'jobs.none': 'Nothing failed: every message went out.',
      'jobs.kind.delivery_confirmation': 'Delivery confirmation',
      'jobs.kind.exception_notice': 'Delivery problem notice',
      'jobs.kind.install_video': 'Install video',
      'jobs.kind.review_invitation': 'Review invitation',
      'jobs.kind.review_reminder': 'Review reminder',
      'jobs.kind.unanswered_turn': "A shopper's message the assistant did not answer",
      'jobs.reason.no_reply': 'The assistant gave no answer',
      'jobs.reason.assistant_unreachable': 'The assistant could not be reached',
      'jobs.reason.error': 'An error on our side',
      'jobs.retry': 'Try again',
      'jobs.retrying': 'Trying again…',
      'jobs.retried': 'Queued again: it goes out within a few seconds if the assistant answers.',
      'jobs.retryFailed': 'It was not queued again: {message}',
      'team.add': 'Add a member',
      'team.addButton': 'Add',
      'team.adding': 'Adding…',
      'team.missing': 'Enter a name and an email address.',
      'team.badEmail': 'Enter a valid email address.',
      'team.inviteReady': 'Invitation for {email} is ready.',
      'team.link': 'Invitation link (shown only once)',
      'team.linkHint': 'Copy it now and send it to them privately: it will not be shown again. It works once, for 7 days. With it they choose their own password, or, if they already have an account, accept with it. You never see a password.',
      'team.roleChanged': '{email} is already on the team: now {role}.',
      'team.failed': 'Not added: {message}',
      'team.invited': 'Invited',
      'team.withdraw': 'Withdraw',
      'team.withdrawn': 'The invitation for {name} was withdrawn.',
      'join.title': 'You are invited',
      'join.text': '{store} invites {email} to join as {role}.',
      'join.name': 'Your name',
      'join.password': 'Password',
      'join.hint': 'New here? Choose a password of at least 10 characters. Already have an account with this email? Enter its password.',
      'join.submit': 'Join the team',
      'join.joining': 'Joining…',
      'join.signIn': 'Sign in instead',
      'join.short': 'The password needs at least 10 characters.',
      'join.wrong': 'This email already has an account, and that is not its password.',
      'join.dead': 'This invitation link does not work: it was used, withdrawn or declined, or it expired.',
      'invites.heading': 'Invitations for you',
      'invites.item': '{store} invites you as {role} (from {by}).',
      'invites.opened': 'You opened an invitation link.',
      'invites.accept': 'Accept',
      'invites.decline': 'Decline',
      'invites.howTo': 'To accept, open the invitation link the store sent you.',
      'invites.accepted': 'You joined {store} as {role}.',
      'invites.declined': 'Invitation declined.',
      'invites.dead': 'This invitation link does not work for you: it was used, withdrawn or declined, it expired, or it is for another email.',
      'test.heading': 'Test conversation',
      'test.lead': 'Chat with your assistant as a sample shopper. Saved changes apply to the next message.',
      'test.hint': 'The sample shopper is made up and has no orders. Each new test starts a fresh conversation.',
      'test.unsaved': 'You have unsaved changes in “Messages & settings”: save them to try them here.',
      'test.start': 'Start a test conversation',
      'test.restart': 'Start over',
      'test.starting': 'Starting…',
      'test.started': 'Test conversation started.',
      'test.frameTitle': 'Test conversation with your assistant',
      'test.placeholder': 'Press “Start” to chat with your assistant.',
      'test.failed': 'The test conversation could not start: {message}'
    },
    'zh-CN': {
      'page.title': '卖家控制台',
      'boot.loading': '正在加载卖家控制台…',
      'alert.dismiss': '关闭此消息',
      'login.title': '卖家控制台',
      'login.lead': '使用卖家管理员账号登录，设置智能助手代表您的店铺说的话。',
      'login.email': '邮箱',
      'login.password': '密码',
      'login.submit': '登录',
      'login.signingIn': '正在登录…',
      'login.missing': '请输入邮箱和密码。',
      'login.wrong': '邮箱或密码错误。',
      'login.throttled': '登录失败次数过多，请在 {s} 秒后重试。',
      'console.brand': '卖家控制台',
      'console.store': '店铺',
      'console.logout': '退出登录',
      'console.switchConfirm': '切换店铺？未保存的更改将丢失。',
      'console.noStoresTitle': '没有可管理的店铺',
      'console.noStores': '此账号不是任何店铺的卖家管理员。请联系店铺负责人为您开通。',
      'templates.heading': '消息模板',
      'templates.lead': '智能助手在每个环节对买家说的话。买家看到的就是您输入的内容；点击占位符即可插入。预览使用您店铺的最新订单。',
      'templates.placeholders': '占位符',
      'templates.insert': '插入 {name}：{description}',
      'templates.preview': '预览',
      'templates.previewLoading': '正在更新预览…',
      'templates.previewFailed': '暂时无法预览。',
      'templates.changed': '已修改',
      'templates.reset': '撤销修改',
      'templates.error': '此模板无法保存：{message}',
      'review.heading': '评价邀请',
      'review.delay': '签收后天数',
      'review.delayHint': '5 到 30 天。',
      'review.reminder': '发送一次提醒',
      'review.url': '评价链接',
      'review.urlHint': '留空表示不使用。可包含 {order_number} 和 {sku}。',
      'escalation.heading': '转接人工客服',
      'escalation.reasons': '以下情况转接人工',
      'escalation.hours': '营业时间',
      'escalation.hoursHint': '例如 09:00-12:00, 13:30-18:00。休息日请留空。',
      'escalation.timezone': '（时区 {tz}）',
      'escalation.closed': '休息',
      'escalation.replyTime': '通常回复时间（分钟）',
      'save.heading': '更改',
      'save.button': '保存',
      'save.saving': '正在保存…',
      'save.discard': '放弃更改',
      'save.hint': '保存后，从下一条消息起生效，无需重启。',
      'save.none': '没有未保存的更改。当前版本：{v}。',
      'save.pending': '未保存的更改：{n} 项。',
      'save.saved': '已保存为版本 {v}。',
      'save.fixFirst': '请先修正标红的错误。',
      'save.error': '未保存任何内容：{message}',
      'history.heading': '历史版本',
      'history.version': '版本 {v}',
      'history.current': '当前',
      'history.rollback': '回滚到此版本',
      'history.rolledBack': '已回滚：版本 {v} 现为当前版本。',
      'history.confirm': '回滚到版本 {v}？未保存的更改将丢失。',
      'history.asImported': '导入时的设置',
      'history.rolledBackTo': '回滚到版本 {v}',
      'history.changed': '修改了：{what}',
      'history.noChange': '无更改',
      'history.empty': '尚无更改：店铺仍为导入时的设置。',
      'history.by': '操作人：{who}',
      'history.system': '导入',
      'error.session': '您的登录已过期，请重新登录。',
      'error.network': '无法连接服务器。请检查网络后重试。',
      'error.server': '服务器出错（{status}），请重试。',
      'error.csrf': '此页面已过期，请刷新后重试。',
      'field.templates': '模板',
      'field.review.delay_days': '签收后天数',
      'field.review.reminder': '提醒',
      'field.review.url': '评价链接',
      'field.escalation.reasons': '转人工情况',
      'field.escalation.business_hours': '营业时间',
      'field.escalation.reply_time_minutes': '回复时间',
      'tabs.label': '控制台栏目',
      'tabs.settings': '消息与设置',
      'tabs.guides': '商品安装指南',
      'tabs.team': '团队与安全',
      'tabs.test': '测试对话',
      'common.copy': '复制',
      'common.copied': '已复制。',
      'common.copyFailed': '这里无法自动复制，请选中文字后手动复制。',
      'common.cancel': '取消',
      'common.done': '我已复制，隐藏',
      'common.loading': '正在加载…',
      'common.openLink': '{url}（在新标签页打开）',
      'guides.heading': '商品安装指南',
      'guides.lead': '买家问怎么安装商品时，智能助手发送的说明书、安装视频和安装步骤。保存后，下一位来问的买家就会收到新内容。',
      'guides.products': '商品',
      'guides.noProducts': '本店还没有商品。',
      'guides.pick': '请选择一个商品来编辑它的安装指南。',
      'guides.stepCount.one': '1 个步骤',
      'guides.stepCount.many': '{n} 个步骤',
      'guides.stepCount.none': '无步骤',
      'guides.version': '版本 {v}',
      'guides.asImported': '导入时的内容',
      'guides.manual': '安装说明书',
      'guides.manualUrl': '说明书链接',
      'guides.manualHint': '填写 PDF 的链接，或在下方直接上传。留空表示不提供。',
      'guides.currentManual': '买家收到的：',
      'guides.currentVideo': '买家收到的：',
      'guides.noLink': '暂无',
      'guides.upload': '上传 PDF…',
      'guides.uploadHint': 'PDF 文件，最大 10 MB。上传后立即作为说明书使用。',
      'guides.uploading': '正在上传 {name}…',
      'guides.uploaded': '已上传 {name}（{size}）：买家现在收到的就是这份说明书。',
      'guides.notPdf': '“{name}” 不是 PDF 文件，请选择 PDF 格式的说明书。',
      'guides.tooBig': '“{name}” 大小为 {size}：说明书最大 10 MB。',
      'guides.emptyFile': '“{name}” 是空文件。',
      'guides.uploadFailed': '说明书未上传：{message}',
      'guides.video': '安装视频',
      'guides.videoUrl': '视频链接',
      'guides.videoHint': '视频的链接，可以放在您自己的网站或视频网站上。留空表示不提供。',
      'guides.steps': '安装步骤',
      'guides.stepsHint': '每一步写一条操作，按顺序排列：智能助手会以编号列表发给买家。按回车键新建一步；粘贴多行文字会自动分成多步。',
      'guides.step': '第 {n} 步',
      'guides.stepUp': '将第 {n} 步上移',
      'guides.stepDown': '将第 {n} 步下移',
      'guides.stepRemove': '删除第 {n} 步',
      'guides.addStep': '添加步骤',
      'guides.noSteps': '还没有步骤。',
      'guides.maxSteps': '一份指南最多 {n} 个步骤。',
      'guides.save': '保存指南',
      'guides.discard': '放弃更改',
      'guides.saving': '正在保存…',
      'guides.pending': '有未保存的更改。',
      'guides.none': '没有未保存的更改。',
      'guides.saved': '已保存为版本 {v}。',
      'guides.restored': '已恢复版本 {old}（另存为版本 {v}）。',
      'guides.error': '未保存任何内容：{message}',
      'guides.leaveConfirm': '离开这份指南？未保存的更改将丢失。',
      'guides.restoreConfirm': '恢复到版本 {v}？这份指南未保存的更改将丢失。',
      'guides.history': '指南历史版本',
      'guides.historyEmpty': '尚无更改：指南仍为导入时的内容。',
      'guides.restore': '恢复',
      'guides.restoreLabel': '恢复到版本 {v}',
      'guides.summary.asImported': '导入时的内容',
      'guides.summary.changed': '修改了：{what}',
      'guides.summary.restored': '恢复到版本 {v}',
      'guides.summary.uploaded': '上传了说明书 {name}',
      'guides.summary.noChange': '无更改',
      'guides.field.manual_url': '说明书链接',
      'guides.field.video_url': '视频链接',
      'guides.field.install_steps': '安装步骤',
      'guides.field.guide': '指南',
      'secrets.heading': '密钥',
      'secrets.lead': '密钥用来证明消息确实来自您的店铺或物流商。为了安全，密钥只在生成后显示一次。如果密钥可能泄露，或知道密钥的人离职了，请更换密钥。',
      'secrets.shopper.title': '买家身份签名密钥',
      'secrets.shopper.what': '您店铺的网页用它给买家的邮箱签名，这样智能助手就知道是谁在咨询，不用再问就能查到他的订单。',
      'secrets.shopper.where': '更换后，请把新密钥填到您店铺网站的客服聊天设置里。',
      'secrets.webhook.title': '物流推送密钥',
      'secrets.webhook.what': '物流商或物流跟踪服务用它给推送的派送进度签名，这样智能助手只相信真实的物流消息。',
      'secrets.webhook.where': '更换后，请把新密钥填到物流跟踪服务的推送设置里。',
      'secrets.set': '已设置',
      'secrets.notSet': '未设置',
      'secrets.previous': '旧密钥在 {when} 之前仍然有效。',
      'secrets.grace': '旧密钥继续有效的时间（小时）',
      'secrets.graceHint': '0 到 168 小时（7 天）。填 0 表示旧密钥立即失效。',
      'secrets.graceBad': '请输入 0 到 168 之间的整数小时。',
      'secrets.rotate': '更换密钥…',
      'secrets.create': '生成密钥…',
      'secrets.confirmFirst': '现在生成密钥？密钥只在生成后显示一次。',
      'secrets.first': '之前没有设置密钥，无需切换其他地方。',
      'secrets.confirmText': '现在生成新密钥？当前密钥还能继续使用 {h} 小时，之后只有新密钥有效。',
      'secrets.confirmTextNow': '现在生成新密钥？当前密钥会立即失效：在您换上新密钥之前，用旧密钥签名的请求都会被拒绝。',
      'secrets.confirm': '确定，立即更换',
      'secrets.rotating': '正在更换…',
      'secrets.newSecret': '新密钥',
      'secrets.once': '请现在就复制：为了安全，之后不会再显示。',
      'secrets.until': '旧密钥在 {when} 之前仍然有效。',
      'secrets.untilNone': '旧密钥已失效。',
      'secrets.failed': '密钥未更换：{message}',
      'team.heading': '团队成员',
      'team.lead': '可以登录本店铺的人员。客服在客服控制台回复买家；卖家管理员还可以使用本控制台。',
      'team.caption': '本店铺的团队成员',
      'team.name': '姓名',
      'team.email': '邮箱',
      'team.role': '角色',
      'team.actions': '操作',
      'team.role.agent': '客服',
      'team.role.seller_admin': '卖家管理员',
      'team.you': '您本人',
      'team.remove': '移除',
      'team.removeConfirm': '确定移除 {name}？移除后将无法再登录本店铺。',
      'team.removeYes': '确定移除',
      'team.removed': '已将 {name} 移出团队。',
      'team.empty': '还没有成员。',
      'team.invited': '已邀请',
      'team.withdraw': '撤回邀请',
      'team.withdrawn': '已撤回对 {name} 的邀请。',
      'join.title': '您收到了邀请',
      'join.text': '{store} 邀请 {email} 以{role}身份加入。',
      'join.name': '您的姓名',
      'join.password': '密码',
      'join.hint': '第一次使用？请设置至少 10 个字符的密码。这个邮箱已有账号？请输入该账号的密码。',
      'join.submit': '加入团队',
      'join.joining': '正在加入…',
      'join.signIn': '改为登录',
      'join.short': '密码至少需要 10 个字符。',
      'join.wrong': '这个邮箱已有账号，而这不是它的密码。',
      'join.dead': '这个邀请链接已失效：已被使用、撤回或拒绝，或已过期。',
      'invites.heading': '给您的邀请',
      'invites.item': '{store} 邀请您担任{role}（邀请人：{by}）。',
      'invites.opened': '您打开了一个邀请链接。',
      'invites.accept': '接受',
      'invites.decline': '拒绝',
      'invites.howTo': '如要接受，请打开店铺发给您的邀请链接。',
      'invites.accepted': '您已以{role}身份加入 {store}。',
      'invites.declined': '已拒绝邀请。',
      'invites.dead': '这个邀请链接对您无效：已被使用、撤回或拒绝、已过期，或是发给其他邮箱的。',
      'jobs.heading': '未能发出的消息',
      'jobs.lead': '助手会在大约两个半小时内反复重试每条店铺消息（签收确认、异常通知、评价邀请）和每条未获回复的顾客消息，之后才会放弃并列在这里。排除原因后可以重试；同一条消息绝不会重复发送。',
      'jobs.caption': '本店未能发出的消息',
      'jobs.what': '消息',
      'jobs.about': '订单',
      'jobs.reason': '原因',
      'jobs.when': '失败时间',
      'jobs.none': '没有失败的消息：所有消息都已发出。',
      'jobs.kind.delivery_confirmation': '签收确认',
      'jobs.kind.exception_notice': '配送异常通知',
      'jobs.kind.install_video': '安装视频',
      'jobs.kind.review_invitation': '评价邀请',
      'jobs.kind.review_reminder': '评价提醒',
      'jobs.kind.unanswered_turn': '助手未回复的顾客消息',
      'jobs.reason.no_reply': '助手没有给出回复',
      'jobs.reason.assistant_unreachable': '无法连接到助手',
      'jobs.reason.error': '我们这边出错了',
      'jobs.retry': '重试',
      'jobs.retrying': '正在重试…',
      'jobs.retried': '已重新排队：如果助手有回复，几秒内就会发出。',
      'jobs.retryFailed': '未能重新排队：{message}',
      'team.add': '添加成员',
      'team.addButton': '添加',
      'team.adding': '正在添加…',
      'team.missing': '请输入姓名和邮箱。',
      'team.badEmail': '请输入有效的邮箱地址。',
      'team.inviteReady': '给 {email} 的邀请已准备好。',
      'team.link': '邀请链接（只显示一次）',
      'team.linkHint': '请现在复制，并私下发给对方：之后不会再显示。链接只能使用一次，7 天内有效。对方用它设置自己的密码；如果已有账号，则用该账号接受邀请。您永远看不到密码。',
      'team.roleChanged': '{email} 已在团队中：现在是{role}。',
      'team.failed': '未添加：{message}',
      'test.heading': '测试对话',
      'test.lead': '以示例买家的身份和您的智能助手聊天。保存的更改从下一条消息起生效。',
      'test.hint': '示例买家是虚构的，没有任何订单。每次重新开始都是一段全新的对话。',
      'test.unsaved': '“消息与设置”中有未保存的更改：保存后才能在这里测试。',
      'test.start': '开始测试对话',
      'test.restart': '重新开始',
      'test.starting': '正在开始…',
      'test.started': '测试对话已开始。',
      'test.frameTitle': '与智能助手的测试对话',
      'test.placeholder': '点击“开始”，和您的智能助手聊天。',
      'test.failed': '测试对话无法开始：{message}'
    }
  };

  /** Names and hints of the templates, reasons, weekdays and placeholders, in both languages. */
  var TEMPLATE_NAMES = {
    greeting: ['Greeting', '问候语', 'The first message of every chat.', '每次对话的第一条消息。'],
    delivery_confirmation: ['Delivery confirmation', '签收确认', 'Sent when the carrier reports the parcel delivered.', '承运商报告包裹已签收时发送。'],
    install_video: ['Install-video follow-up', '安装视频跟进', "Sent a while after delivery with the product's install video.", '签收一段时间后，随商品安装视频一起发送。'],
    exception_customs: ['Exception notice: held up', '异常通知：包裹滞留', 'When the parcel is held, usually by customs.', '包裹被扣留（通常是海关）时发送。'],
    exception_failed_attempt: ['Exception notice: failed delivery', '异常通知：派送失败', 'When the carrier could not deliver.', '承运商派送未成功时发送。'],
    exception_pickup: ['Exception notice: at a pickup point', '异常通知：待自提', 'When the parcel waits at a pickup point.', '包裹在自提点等待领取时发送。'],
    review_invitation: ['Review invitation', '评价邀请', 'Sent the chosen number of days after delivery.', '签收后按设定天数发送。'],
    review_thanks: ['Review thank-you', '评价感谢', 'After the shopper leaves a review.', '买家留下评价后发送。'],
    handoff_connecting: ['Handoff: connecting', '转人工：正在连接', 'When a person from your team is online.', '您的团队有人在线时发送。'],
    handoff_waiting: ['Handoff: everyone busy', '转人工：客服忙碌', 'In business hours, when nobody is online.', '营业时间内无人在线时发送。'],
    out_of_hours: ['Out-of-hours notice', '非工作时间通知', 'Outside business hours.', '非营业时间发送。']
  };
  var REASON_NAMES = {
    not_received: ['Parcel not received', '未收到包裹'],
    damaged: ['Arrived damaged', '商品损坏'],
    missing_parts: ['Missing parts', '缺少零件'],
    wrong_item: ['Wrong item', '发错商品'],
    shopper_request: ['Shopper asks for a person (always)', '买家要求人工（始终转接）'],
    not_understood: ['The assistant did not understand', '智能助手无法理解'],
    identity_check_failed: ['Identity check failed', '身份验证失败']
  };
  var WEEKDAY_NAMES = {
    mon: ['Monday', '星期一'], tue: ['Tuesday', '星期二'], wed: ['Wednesday', '星期三'], thu: ['Thursday', '星期四'],
    fri: ['Friday', '星期五'], sat: ['Saturday', '星期六'], sun: ['Sunday', '星期日']
  };
  var PLACEHOLDER_ZH = {
    shopper_first_name: '买家的名字（未知时为 "there"）',
    store_name: '店铺名称',
    order_number: '订单号，例如 FZ-20931',
    item_names: '商品，例如 "1 × Aluminium oil pan"',
    tracking_url: '承运商的包裹跟踪页面',
    carrier: '承运商，例如 USPS',
    tracking_number: '包裹的跟踪号',
    delivered_at: '签收时间（买家当地时间）',
    latest_scan: '承运商最新的扫描记录，例如 "Held by customs, JFK"',
    review_url: '该订单的店铺评价链接',
    reply_time: '通常多久有人回复，例如 "2 hours"',
    back_in: '团队何时回来，例如 "in about 9 hours (Monday 09:00, Asia/Shanghai time)"',
    reference: '工单编号，例如 E-12'
  };
  /** The server's template errors, in Chinese (the English text is the server's own). */
  var ERROR_ZH = [
    [/^unknown placeholder \{([^}]*)\}; this message can use (.*)$/, '未知占位符 {$1}；此消息可以使用 $2'],
    [/^\{(.*)\} at character (\d+) is not a placeholder.*$/, '第 $2 个字符处的 {$1} 不是占位符：只允许 {order_number} 这样的名称（不能有属性、索引、格式或代码）'],
    [/^unmatched '\{' at character (\d+).*$/, '第 $1 个字符处的 "{" 没有配对；如需输入字面上的大括号，请写 {{'],
    [/^unmatched '\}' at character (\d+).*$/, '第 $1 个字符处的 "}" 没有配对；如需输入字面上的大括号，请写 }}'],
    [/^empty placeholder \{\} at character (\d+).*$/, '第 $1 个字符处的占位符 {} 为空；请填写名称，例如 {order_number}'],
    [/^a template cannot be empty$/, '模板不能为空'],
    [/^a template can have at most ([\d,]+) characters$/, '模板最多 $1 个字符'],
    // product guides and manuals
    [/^must be a link \(text\), or null for none$/, '必须是链接，或留空'],
    [/^a link can be at most (\d+) characters$/, '链接最多 $1 个字符'],
    [/^must be an http\(s\) link, like (.*)$/, '必须是 http(s) 开头的链接，例如 $1'],
    [/^a link cannot contain spaces, quotes or angle brackets$/, '链接里不能有空格、引号或尖括号'],
    [/^must be a list of texts, one per step$/, '必须是文字列表，每步一条'],
    [/^at most (\d+) steps$/, '最多 $1 个步骤'],
    [/^step (\d+) is empty$/, '第 $1 步是空的'],
    [/^step (\d+) is longer than (\d+) characters$/, '第 $1 步超过了 $2 个字符'],
    [/^someone else saved this guide at the same moment; reload and try again$/, '有人同时保存了这份指南，请刷新后重试'],
    [/^the file is not a PDF \(manuals must be PDF files\)$/, '这个文件不是 PDF（说明书必须是 PDF 文件）'],
    [/^the file is empty$/, '文件是空的'],
    [/^a manual can be at most (\d+) MB$/, '说明书最大 $1 MB'],
    [/^send the manual as the body, with Content-Type: application\/pdf$/, '请上传 PDF 格式的说明书'],
    [/^no product '(.*)' in this store$/, '本店没有商品 $1'],
    [/^no version (\d+) of this guide$/, '这份指南没有版本 $1'],
    // secrets and team
    [/^"grace_hours" must be from 0 to 168$/, '旧密钥有效时间必须在 0 到 168 小时之间'],
    [/^'(.*)' is not an email address$/, '“$1” 不是有效的邮箱地址'],
    [/^role must be one of (.*)$/, '角色必须是以下之一：$1'],
    [/^you cannot remove yourself; ask another seller admin of the store$/, '不能移除您自己；请让本店其他卖家管理员操作'],
    [/^no such member of this store(, nor a pending invitation)?$/, '本店没有这个成员，也没有待处理的邀请'],
    [/^give the person's name$/, '请填写对方的姓名'],
    [/^send \{"email".*$/, '请填写邮箱、姓名和角色']
  ];

  var lang = 'en';
  var state = {
    me: null, csrf: '', storeId: null, store: null, data: null,
    edits: {}, errors: {}, previewTimers: {}, previewSeq: {}, history: null, busy: false, notice: null
  };
  var cards = {};

  // ------------------------------------------------------------- helpers --

  function $(id) { return doc.getElementById(id); }

  function el(tag, cls, attrs, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] != null) node.setAttribute(k, String(attrs[k]));
      }
    }
    if (text != null) node.textContent = text;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) {
      return values && Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m;
    });
  }

  function t(key, values) {
    var table = STRINGS[lang] || STRINGS.en;
    var text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS.en[key];
    return values ? fill(text, values) : text;
  }

  function pick(pair) { return lang === 'zh-CN' ? pair[1] : pair[0]; }

  // A refused save's message for one field: without the server's "nothing saved: " and
  // "<field>: " prefixes, since the console shows it beside the field, in its own words.
  function fieldError(error, field) {
    return String(error || '').replace(/^nothing saved: /, '').replace(field + ': ', '');
  }

  function serverError(message) {
    if (lang !== 'zh-CN') return message;
    var text = String(message || '');
    for (var i = 0; i < ERROR_ZH.length; i++) {
      if (ERROR_ZH[i][0].test(text)) return text.replace(ERROR_ZH[i][0], ERROR_ZH[i][1]);
    }
    return text;
  }

  function clone(v) { return JSON.parse(JSON.stringify(v)); }

  // --------------------------------------------------------------- alert --

  function showAlert(text) {
    var alert = $('alert');
    $('alert-text').textContent = text || '';
    alert.classList.toggle('is-empty', !text);
    $('alert-close').hidden = !text;
    var slot = $('console-view').hidden ? $('login-alert-slot') : $('console-alert-slot');
    if (alert.parentNode !== slot) slot.appendChild(alert);
  }

  // ------------------------------------------------------------ language --

  function applyLanguage() {
    doc.documentElement.setAttribute('lang', lang);
    doc.title = t('page.title');
    var nodes = doc.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    nodes = doc.querySelectorAll('[data-i18n-aria-label]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('aria-label', t(nodes[i].getAttribute('data-i18n-aria-label')));
    nodes = doc.querySelectorAll('[data-i18n-title]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('title', t(nodes[i].getAttribute('data-i18n-title')));
    $('lang-en').setAttribute('aria-pressed', String(lang === 'en'));
    $('lang-zh').setAttribute('aria-pressed', String(lang === 'zh-CN'));
    if (state.data) {
      renderTemplates();
      renderReasons();
      renderHours();
      renderStoreLine();
      updateSaveState();
    }
    if (state.history) renderHistory();
    if (state.me) renderMyInvitations();
    relabelPanels();
    if ($('alert-text').textContent) showAlert('');
  }

  function setLanguage(next) {
    lang = next === 'zh-CN' ? 'zh-CN' : 'en';
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode: the choice lasts this page only */ }
    applyLanguage();
  }

  // ----------------------------------------------------------------- API --

  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = state.csrf;
    }
    return fetch(API + path, {
      method: method, headers: headers, credentials: 'same-origin', cache: 'no-store',
      body: method === 'GET' ? undefined : JSON.stringify(body || {})
    }).then(readAnswer, networkFailure);
  }

  /** A file as the raw body (a manual as application/pdf), with the same session and CSRF token as api(). */
  function apiUpload(path, file, contentType) {
    return fetch(API + path, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json', 'Content-Type': contentType, 'X-CSRF-Token': state.csrf },
      body: file
    }).then(readAnswer, networkFailure);
  }

  function readAnswer(response) {
    return response.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      return { status: response.status, ok: response.ok, data: data && typeof data === 'object' ? data : {}, headers: response.headers };
    });
  }

  function networkFailure() {
    return { status: 0, ok: false, data: {} };
  }

  /** The common failures: a lapsed session goes back to the login, the rest become an alert. */
  function handled(result) {
    if (result.status === 401) {
      signedOut(t('error.session'));
      return true;
    }
    if (result.status === 0) { showAlert(t('error.network')); return true; }
    if (result.status === 403) { showAlert(t('error.csrf')); return true; }
    if (result.status >= 500) { showAlert(t('error.server', { status: result.status })); return true; }
    return false;
  }

  function loginToken() {
    var meta = doc.querySelector('meta[name="login-csrf"]');
    return meta ? meta.getAttribute('content') : '';
  }

  /** A fresh login CSRF token (and its cookie), from a re-fetched page. */
  function refreshLoginToken() {
    return fetch('/seller', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) { return r.text(); })
      .then(function (page) {
        var match = /<meta name="login-csrf" content="([^"]+)">/.exec(page);
        if (match) doc.querySelector('meta[name="login-csrf"]').setAttribute('content', match[1]);
      }, function () { /* the login will say */ });
  }

  // -------------------------------------------------------------- screens --

  function showLogin() {
    $('boot').hidden = true;
    $('console-view').hidden = true;
    $('login-view').hidden = false;
    showAlert('');
    $('login-email').focus();
  }

  function signedOut(message) {
    state.me = null; state.csrf = ''; state.data = null; state.history = null; state.storeId = null;
    invite.mine = []; invite.notice = null;
    resetPanels();
    refreshLoginToken().then(function () {
      showLogin();
      if (message) showAlert(message);
    });
  }

  function signedIn(body) {
    state.me = body.agent;
    state.csrf = body.csrf_token;
    $('boot').hidden = true;
    $('login-view').hidden = true;
    $('console-view').hidden = false;
    showAlert('');
    $('seller-name').textContent = state.me.name;
    renderMyInvitations();
    loadMyInvitations();
    var stores = state.me.stores || [];
    var picker = $('store-picker');
    clear(picker);
    stores.forEach(function (s) { picker.appendChild(el('option', null, { value: s.id }, s.name)); });
    $('store-pick').hidden = stores.length < 2;
    $('no-stores').hidden = stores.length > 0;
    $('workspace').hidden = stores.length === 0;
    if (stores.length) {
      var remembered = null;
      try { remembered = sessionStorage.getItem('seller-store'); } catch (e) { remembered = null; }
      var first = stores.some(function (s) { return s.id === remembered; }) ? remembered : stores[0].id;
      picker.value = first;
      openStore(first);
    } else {
      $('store-name').textContent = '';
    }
  }

  // ------------------------------------------------------------- a store --

  function openStore(storeId) {
    state.storeId = storeId;
    try { sessionStorage.setItem('seller-store', storeId); } catch (e) { /* fine */ }
    state.data = null; state.edits = {}; state.errors = {}; state.history = null; state.notice = null;
    cards = {};
    clear($('templates'));
    clear($('history-list'));
    resetPanels();
    loadTab(currentTab);
    return Promise.all([loadSettings(), loadHistory()]);
  }

  function loadSettings() {
    var storeId = state.storeId;
    return api('GET', storePath('/settings')).then(function (result) {
      if (storeId !== state.storeId || handled(result)) return;
      if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
      state.data = result.data;
      state.edits = {};
      state.errors = {};
      // Same store, new version: the cards stay (and keep their previews until the new ones arrive).
      Object.keys(cards).forEach(function (key) {
        var card = cards[key];
        card.area.value = templateText(key);
        card.changed.hidden = card.reset.hidden = true;
        card.root.classList.remove('is-changed');
      });
      renderTemplates();
      fillSettings();
      renderStoreLine();
      updateSaveState();
      Object.keys(state.data.settings.templates).forEach(function (key) { schedulePreview(key, 0); });
    });
  }

  function loadHistory() {
    var storeId = state.storeId;
    return api('GET', storePath('/settings/history')).then(function (result) {
      if (storeId !== state.storeId || handled(result)) return;
      if (result.ok) {
        state.history = result.data;
        renderHistory();
      }
    });
  }

  function renderStoreLine() {
    var store = state.data && state.data.store;
    $('store-name').textContent = store ? store.name : '';
    $('store-timezone').textContent = store && store.timezone ? t('escalation.timezone', { tz: store.timezone }) : '';
  }

  // ----------------------------------------------------------- templates --

  function templateText(key) {
    return Object.prototype.hasOwnProperty.call(state.edits, key) ? state.edits[key] : state.data.settings.templates[key];
  }

  function placeholderDescription(name) {
    if (lang === 'zh-CN' && PLACEHOLDER_ZH[name]) return PLACEHOLDER_ZH[name];
    return (state.data.placeholder_descriptions || {})[name] || name;
  }

  /** Builds a card once per template; later calls (a language switch) only re-label it. */
  function renderTemplates() {
    var keys = Object.keys(state.data.settings.templates);
    var box = $('templates');
    keys.forEach(function (key) {
      var card = cards[key];
      if (!card) {
        card = buildCard(key);
        cards[key] = card;
        box.appendChild(card.root);
      }
      var names = TEMPLATE_NAMES[key] || [key, key, '', ''];
      card.title.textContent = lang === 'zh-CN' ? names[1] : names[0];
      card.hint.textContent = lang === 'zh-CN' ? names[3] : names[2];
      card.chipsLabel.textContent = t('templates.placeholders');
      card.previewLabel.textContent = t('templates.preview');
      card.changed.textContent = t('templates.changed');
      card.reset.textContent = t('templates.reset');
      card.chips.forEach(function (chip) {
        var name = chip.getAttribute('data-placeholder');
        var description = placeholderDescription(name);
        chip.setAttribute('title', description);
        chip.setAttribute('aria-label', t('templates.insert', { name: '{' + name + '}', description: description }));
      });
      card.descriptions.forEach(function (dd) { dd.textContent = placeholderDescription(dd.getAttribute('data-placeholder')); });
      showTemplateError(key);
    });
  }

  function buildCard(key) {
    var root = el('article', 'tpl card', { 'data-testid': 'seller-template', 'data-key': key });
    var head = el('div', 'tpl-head');
    var title = el('h3', 'tpl-title', { id: 'tpl-title-' + key, 'data-testid': 'seller-template-title' });
    var changed = el('span', 'tpl-changed', { 'data-testid': 'seller-template-changed' });
    changed.hidden = true;
    head.appendChild(title);
    head.appendChild(changed);
    var hint = el('p', 'hint tpl-hint', { id: 'tpl-hint-' + key });
    var area = el('textarea', 'textarea', {
      id: 'tpl-' + key, rows: 3, maxlength: 2000, spellcheck: 'true',
      'aria-labelledby': 'tpl-title-' + key, 'aria-describedby': 'tpl-hint-' + key + ' tpl-error-' + key,
      'data-testid': 'seller-template-text'
    });
    area.value = templateText(key);
    area.addEventListener('input', function () { edited(key, area.value); });

    var chipsRow = el('div', 'chips');
    var chipsLabel = el('span', 'chips-label', { id: 'tpl-chips-' + key });
    chipsRow.appendChild(chipsLabel);
    var chips = [];
    var list = el('dl', 'placeholder-list', { 'data-testid': 'seller-placeholder-list' });
    var descriptions = [];
    (state.data.placeholders[key] || []).forEach(function (name) {
      var chip = el('button', 'chip', { type: 'button', 'data-placeholder': name, 'data-testid': 'seller-chip' }, '{' + name + '}');
      chip.addEventListener('click', function () { insertPlaceholder(area, name); edited(key, area.value); });
      chips.push(chip);
      chipsRow.appendChild(chip);
      list.appendChild(el('dt', null, null, '{' + name + '}'));
      var dd = el('dd', null, { 'data-placeholder': name });
      descriptions.push(dd);
      list.appendChild(dd);
    });

    var error = el('p', 'field-error', { id: 'tpl-error-' + key, role: 'alert', 'data-testid': 'seller-template-error' });
    error.hidden = true;
    var previewBox = el('div', 'preview');
    var previewLabel = el('span', 'preview-label');
    var preview = el('p', 'preview-text', { 'aria-live': 'polite', 'data-testid': 'seller-template-preview' });
    previewBox.appendChild(previewLabel);
    previewBox.appendChild(preview);
    var reset = el('button', 'btn btn-quiet btn-small', { type: 'button', 'data-testid': 'seller-template-reset' });
    reset.hidden = true;
    reset.addEventListener('click', function () {
      area.value = state.data.settings.templates[key];
      edited(key, area.value);
    });

    root.appendChild(head);
    root.appendChild(hint);
    root.appendChild(area);
    root.appendChild(error);
    root.appendChild(chipsRow);
    root.appendChild(list);
    root.appendChild(previewBox);
    root.appendChild(reset);
    return {
      root: root, title: title, hint: hint, area: area, chips: chips, chipsLabel: chipsLabel, descriptions: descriptions,
      error: error, preview: preview, previewLabel: previewLabel, changed: changed, reset: reset
    };
  }

  function insertPlaceholder(area, name) {
    var text = '{' + name + '}';
    var start = area.selectionStart == null ? area.value.length : area.selectionStart;
    var end = area.selectionEnd == null ? start : area.selectionEnd;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.focus();
    area.setSelectionRange(start + text.length, start + text.length);
  }

  function edited(key, value) {
    state.notice = null;
    if (value === state.data.settings.templates[key]) delete state.edits[key];
    else state.edits[key] = value;
    var card = cards[key];
    card.changed.hidden = card.reset.hidden = !Object.prototype.hasOwnProperty.call(state.edits, key);
    card.root.classList.toggle('is-changed', !card.changed.hidden);
    schedulePreview(key, PREVIEW_DELAY_MS);
    updateSaveState();
  }

  function schedulePreview(key, delay) {
    clearTimeout(state.previewTimers[key]);
    var card = cards[key];
    if (card) card.preview.setAttribute('aria-busy', 'true');
    state.previewTimers[key] = setTimeout(function () { runPreview(key); }, delay);
  }

  function runPreview(key) {
    var storeId = state.storeId;
    var seq = (state.previewSeq[key] || 0) + 1;
    state.previewSeq[key] = seq;
    var text = templateText(key);
    api('POST', storePath('/preview'), { template: key, text: text }).then(function (result) {
      if (storeId !== state.storeId || state.previewSeq[key] !== seq || !cards[key]) return; // a newer one is on its way
      var card = cards[key];
      card.preview.removeAttribute('aria-busy');
      if (result.status === 400) {
        state.errors[key] = result.data.error || '';
        card.preview.textContent = '';
        card.preview.classList.add('is-stale');
      } else if (result.ok) {
        delete state.errors[key];
        card.preview.textContent = result.data.rendered;
        card.preview.classList.remove('is-stale');
      } else {
        if (handled(result)) return;
        card.preview.textContent = t('templates.previewFailed');
      }
      showTemplateError(key);
      updateSaveState();
    });
  }

  function showTemplateError(key) {
    var card = cards[key];
    if (!card) return;
    var message = state.errors[key];
    card.error.hidden = !message;
    card.error.textContent = message ? t('templates.error', { message: serverError(message) }) : '';
    card.area.setAttribute('aria-invalid', message ? 'true' : 'false');
    card.root.classList.toggle('has-error', !!message);
  }

  // --------------------------------------------- review and escalation --

  function fillSettings() {
    var s = state.data.settings;
    $('review-delay').value = s.review.delay_days;
    $('review-reminder').checked = !!s.review.reminder;
    $('review-url').value = s.review.url || '';
    $('reply-time').value = s.escalation.reply_time_minutes;
    clear($('reasons'));
    clear($('hours'));
    renderReasons();
    renderHours();
  }

  function renderReasons() {
    var box = $('reasons');
    var chosen = {};
    if (!box.firstChild) {
      (state.data.settings.escalation.reasons || []).forEach(function (r) { chosen[r] = true; });
      state.data.reasons.forEach(function (reason) {
        var id = 'reason-' + reason;
        var row = el('div', 'check');
        var box2 = el('input', null, { type: 'checkbox', id: id, 'data-reason': reason, 'data-testid': 'seller-reason' });
        box2.checked = !!chosen[reason];
        if (reason === 'shopper_request') { box2.checked = true; box2.disabled = true; }
        box2.addEventListener('change', formEdited);
        row.appendChild(box2);
        row.appendChild(el('label', null, { 'for': id, 'data-reason-label': reason }));
        box.appendChild(row);
      });
    }
    var labels = box.querySelectorAll('label[data-reason-label]');
    for (var i = 0; i < labels.length; i++) {
      var r = labels[i].getAttribute('data-reason-label');
      labels[i].textContent = REASON_NAMES[r] ? pick(REASON_NAMES[r]) : r;
    }
  }

  function renderHours() {
    var box = $('hours');
    if (!box.firstChild) {
      var hours = state.data.settings.escalation.business_hours || state.data.default_business_hours || {};
      state.data.weekdays.forEach(function (day) {
        var id = 'hours-' + day;
        var row = el('div', 'hours-row');
        row.appendChild(el('label', null, { 'for': id, 'data-day-label': day }));
        var input = el('input', null, { id: id, type: 'text', spellcheck: 'false', autocomplete: 'off', 'data-day': day, 'data-testid': 'seller-hours-' + day });
        input.value = (hours[day] || []).join(', ');
        input.addEventListener('input', formEdited);
        row.appendChild(input);
        box.appendChild(row);
      });
    }
    var labels = box.querySelectorAll('label[data-day-label]');
    var inputs = box.querySelectorAll('input[data-day]');
    for (var i = 0; i < labels.length; i++) {
      labels[i].textContent = pick(WEEKDAY_NAMES[labels[i].getAttribute('data-day-label')] || ['', '']);
      inputs[i].setAttribute('placeholder', t('escalation.closed'));
    }
  }

  function intOr(value, fallback) {
    var text = String(value).trim();
    return /^-?\d+$/.test(text) ? parseInt(text, 10) : (text === '' ? fallback : text);
  }

  /** The review and escalation parts of the form, as the API takes them. */
  function formSettings() {
    var s = state.data.settings;
    var url = $('review-url').value.trim();
    var review = { delay_days: intOr($('review-delay').value, null), reminder: $('review-reminder').checked, url: url || null };
    var reasons = [];
    var boxes = $('reasons').querySelectorAll('input[data-reason]');
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) reasons.push(boxes[i].getAttribute('data-reason'));
    reasons.sort();
    var hours = {};
    var inputs = $('hours').querySelectorAll('input[data-day]');
    for (i = 0; i < inputs.length; i++) {
      var spans = inputs[i].value.split(/[,，;；]/).map(function (p) { return p.replace(/\s+/g, '').replace(/[–—~～]/g, '-'); })
        .filter(function (p) { return p; });
      if (spans.length) hours[inputs[i].getAttribute('data-day')] = spans;
    }
    var before = s.escalation.business_hours;
    var sameHours = JSON.stringify(normalHours(before || state.data.default_business_hours)) === JSON.stringify(normalHours(hours));
    var escalation = {
      reasons: reasons,
      business_hours: sameHours ? before : hours,
      reply_time_minutes: intOr($('reply-time').value, null)
    };
    return { review: review, escalation: escalation };
  }

  function normalHours(hours) {
    var out = {};
    (state.data.weekdays || []).forEach(function (d) { if (hours && hours[d] && hours[d].length) out[d] = hours[d]; });
    return out;
  }

  /** Only what differs from the current version: the PUT is a patch. */
  function buildPatch() {
    var s = state.data.settings;
    var form = formSettings();
    var patch = {};
    if (Object.keys(state.edits).length) patch.templates = clone(state.edits);
    ['review', 'escalation'].forEach(function (section) {
      var changed = {};
      Object.keys(form[section]).forEach(function (k) {
        var now = form[section][k];
        var then = s[section][k];
        if (k === 'reasons') then = (then || []).slice().sort();
        if (JSON.stringify(now) !== JSON.stringify(then)) changed[k] = now;
      });
      if (Object.keys(changed).length) patch[section] = changed;
    });
    return patch;
  }

  function countChanges(patch) {
    var n = 0;
    Object.keys(patch).forEach(function (section) { n += Object.keys(patch[section]).length; });
    return n;
  }

  function formEdited() {
    state.notice = null;
    updateSaveState();
  }

  function updateSaveState() {
    if (!state.data) return;
    var n = countChanges(buildPatch());
    var hasErrors = Object.keys(state.errors).length > 0;
    $('save').disabled = state.busy || n === 0 || hasErrors;
    $('discard').disabled = state.busy || n === 0;
    if (state.busy) $('save-status').textContent = t('save.saving');
    else if (hasErrors) $('save-status').textContent = t('save.fixFirst');
    else if (n) $('save-status').textContent = t('save.pending', { n: n });
    else if (state.notice) $('save-status').textContent = t(state.notice[0], state.notice[1]);
    else $('save-status').textContent = t('save.none', { v: state.data.version });
    $('test-unsaved').hidden = n === 0;
  }

  function fieldLabel(field) {
    if (!field) return '';
    if (field.indexOf('templates.') === 0) {
      var names = TEMPLATE_NAMES[field.slice(10)];
      return names ? pick(names) : field;
    }
    var key = 'field.' + field;
    return Object.prototype.hasOwnProperty.call(STRINGS.en, key) ? t(key) : field;
  }

  function save() {
    var patch = buildPatch();
    if (!countChanges(patch) || state.busy) return;
    state.busy = true;
    $('save-error').hidden = true;
    updateSaveState();
    var storeId = state.storeId;
    api('PUT', storePath('/settings'), patch).then(function (result) {
      state.busy = false;
      if (storeId !== state.storeId) return;
      if (result.status === 400) {
        var field = result.data.field || '';
        var detail = fieldError(result.data.error, field);
        if (field.indexOf('templates.') === 0 && cards[field.slice(10)]) {
          state.errors[field.slice(10)] = detail;
          showTemplateError(field.slice(10));
          cards[field.slice(10)].area.focus();
        }
        $('save-error').textContent = t('save.error', { message: fieldLabel(field) + ': ' + serverError(detail) });
        $('save-error').hidden = false;
        updateSaveState();
        return;
      }
      if (handled(result)) { updateSaveState(); return; }
      if (!result.ok) { showAlert(serverError(result.data.error || '')); updateSaveState(); return; }
      var version = result.data.version;
      state.notice = ['save.saved', { v: version }];
      Promise.all([loadSettings(), loadHistory()]).then(updateSaveState);
    });
  }

  function discard() {
    Object.keys(cards).forEach(function (key) { cards[key].area.value = state.data.settings.templates[key]; });
    Object.keys(state.edits).forEach(function (key) { delete state.edits[key]; edited(key, cards[key].area.value); });
    state.errors = {};
    Object.keys(cards).forEach(showTemplateError);
    fillSettings();
    $('save-error').hidden = true;
    updateSaveState();
  }

  // -------------------------------------------------------------- history --

  function describeSummary(summary) {
    var text = String(summary || '');
    if (text === 'as imported') return t('history.asImported');
    if (text === 'no change') return t('history.noChange');
    var m = /^rolled back to version (\d+)$/.exec(text);
    if (m) return t('history.rolledBackTo', { v: m[1] });
    m = /^changed (.*)$/.exec(text);
    if (m) {
      return t('history.changed', {
        what: m[1].split(', ').map(fieldLabel).join(lang === 'zh-CN' ? '、' : ', ')
      });
    }
    return text;
  }

  function renderHistory() {
    renderVersions($('history-list'), (state.history && state.history.versions) || [], state.history && state.history.current, {
      testid: 'seller-history', empty: 'history.empty',
      summary: function (node, summary) { node.textContent = describeSummary(summary); },
      restoreText: 'history.rollback', restoreTestid: 'seller-rollback', restore: rollback
    });
  }

  /** A version history (the settings', or a product guide's): newest first, who and when, and a
   *  button on every version but the current one. */
  function renderVersions(list, versions, current, o) {
    clear(list);
    if (!versions.length) {
      list.appendChild(el('li', 'empty empty-small', { 'data-testid': o.testid + '-empty' }, t(o.empty)));
      return;
    }
    versions.forEach(function (v) {
      var item = el('li', 'history-item', { 'data-testid': o.testid + '-item', 'data-version': v.version });
      var head = el('div', 'history-head');
      head.appendChild(el('span', 'history-version', { 'data-testid': o.testid + '-version' }, t('history.version', { v: v.version })));
      if (v.version === current) head.appendChild(el('span', 'pill pill-current', null, t('history.current')));
      item.appendChild(head);
      var summary = el('p', 'history-summary', { 'data-testid': o.testid + '-summary' });
      o.summary(summary, v.summary);
      item.appendChild(summary);
      var meta = el('p', 'history-meta', { 'data-testid': o.testid + '-meta' });
      if (v.created_at) meta.appendChild(doc.createTextNode(when(v.created_at) + ' · '));
      var by = el('span');
      if (v.changed_by) fillNodes(by, 'history.by', { who: v.changed_by });
      else by.textContent = t('history.by', { who: t('history.system') });
      meta.appendChild(by);
      item.appendChild(meta);
      if (v.version !== current) {
        var attrs = { type: 'button', 'data-testid': o.restoreTestid };
        if (o.restoreLabel) attrs['aria-label'] = t(o.restoreLabel, { v: v.version });
        var button = el('button', 'btn btn-small', attrs, t(o.restoreText));
        button.addEventListener('click', function () { o.restore(v.version, button); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
  }


  function rollback(version, button) {
    if (countChanges(buildPatch()) && !window.confirm(t('history.confirm', { v: version }))) return;
    button.disabled = true;
    var storeId = state.storeId;
    api('POST', storePath('/settings/rollback'), { version: version }).then(function (result) {
      button.disabled = false;
      if (storeId !== state.storeId || handled(result)) return;
      if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
      state.notice = ['history.rolledBack', { v: result.data.version }];
      Promise.all([loadSettings(), loadHistory()]).then(updateSaveState);
    });
  }

  // ================================================================ tabs ==

  var TABS = ['settings', 'guides', 'team', 'test'];
  var currentTab = 'settings';
  /** What each tab has loaded for the open store (reset when the store changes). */
  var loaded = {};

  function tabFromHash() {
    var name = String(window.location.hash || '').replace(/^#/, '');
    return TABS.indexOf(name) >= 0 ? name : 'settings';
  }

  function showTab(name, focus) {
    if (TABS.indexOf(name) < 0) name = 'settings';
    currentTab = name;
    TABS.forEach(function (tab) {
      var on = tab === name;
      var button = $('tab-' + tab);
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      $('panel-' + tab).hidden = !on;
    });
    if (focus) $('tab-' + name).focus();
    if (name === 'guides') fitAllRows();
    if (tabFromHash() !== name) {
      try {
        window.history.replaceState(null, '', window.location.pathname + window.location.search + (name === 'settings' ? '' : '#' + name));
      } catch (e) { /* an old browser: the tab just is not remembered */ }
    }
    loadTab(name);
  }

  function loadTab(name) {
    if (!state.storeId || loaded[name]) return;
    loaded[name] = true;
    if (name === 'guides') loadProducts();
    else if (name === 'team') { loadSecrets(); loadTeam(); loadFailedJobs(); }
    else if (name === 'test') startTest();
  }

  function tabKeys(event) {
    var index = TABS.indexOf(currentTab);
    var next = null;
    if (event.key === 'ArrowRight') next = TABS[(index + 1) % TABS.length];
    else if (event.key === 'ArrowLeft') next = TABS[(index + TABS.length - 1) % TABS.length];
    else if (event.key === 'Home') next = TABS[0];
    else if (event.key === 'End') next = TABS[TABS.length - 1];
    if (!next) return;
    event.preventDefault();
    showTab(next, true);
  }

  /** Everything a store's panels hold, gone: on a store switch and on signing out (secrets and passwords included). */
  function resetPanels() {
    loaded = {};
    guides = newGuides();
    clear($('product-list'));
    $('products-status').textContent = '';
    $('guide-form').hidden = true;
    $('guide-empty').hidden = false;
    clear($('guide-history-list'));
    clear($('guide-steps'));
    $('guide-upload-status').textContent = '';
    Object.keys(secretCards).forEach(function (kind) { hideSecret(kind); closeConfirm(kind); secretCards[kind].error.hidden = true; });
    secretStatus = null;
    renderSecrets();
    team = { members: null, invitations: [], confirming: null, busy: false, notice: null };
    failedJobs = { list: null, busy: null, notice: null };
    clear($('jobs-rows'));
    $('jobs-status').textContent = '';
    clear($('team-rows'));
    $('team-status').textContent = '';
    $('team-error').hidden = true;
    hideLink();
    test = { started: false, busy: false, notice: null };
    var box = $('test-frame-box');
    var frame = box.querySelector('iframe');
    if (frame) box.removeChild(frame);
    $('test-placeholder').hidden = false;
    renderTest();
  }

  /** Re-label what the panels built from data, after a language switch. */
  function relabelPanels() {
    if (!$('product-list')) return;
    renderProducts();
    if (guides.saved) { renderGuideHead(); renderSteps(); renderGuideErrors(); updateGuideState(); }
    if (guides.history) renderGuideHistory();
    renderSecrets();
    if (team.members) renderTeam();
    if (failedJobs.list) renderFailedJobs();
    renderCreated();
    renderTest();
  }

  // -------------------------------------------------------------- helpers --

  function when(iso) {
    if (!iso) return '';
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleString(lang === 'zh-CN' ? 'zh-CN' : 'en-GB');
  }

  function bytes(n) {
    if (n >= 1024 * 1024) return (n / (1024 * 1024)).toFixed(1) + ' MB';
    if (n >= 1024) return Math.round(n / 1024) + ' KB';
    return n + ' B';
  }

  /** A translated text with data in it: the data (names, links, files) is marked translate="no",
   *  except the values named in `plain` (words of the console itself, already translated). */
  function fillNodes(parent, key, values, plain) {
    clear(parent);
    var text = t(key);
    var re = /\{(\w+)\}/g;
    var last = 0;
    var match;
    while ((match = re.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(doc.createTextNode(text.slice(last, match.index)));
      var value = values && values[match[1]] != null ? String(values[match[1]]) : match[0];
      if (plain && plain.indexOf(match[1]) >= 0) parent.appendChild(doc.createTextNode(value));
      else parent.appendChild(el('span', 'data', { translate: 'no' }, value));
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.appendChild(doc.createTextNode(text.slice(last)));
    return parent;
  }

  /** An http(s) link the seller typed, or null: nothing else becomes an href. */
  function safeLink(value) {
    if (!value) return null;
    try {
      var url = new URL(String(value));
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function copyField(input, status) {
    function done(ok) { setStatusKey(status, ok ? 'common.copied' : 'common.copyFailed'); }
    // Without the clipboard API (or its permission), copy the selected text the old way.
    function copySelection() {
      var ok = false;
      try { ok = doc.execCommand('copy'); } catch (e) { ok = false; }
      done(ok);
    }
    input.focus();
    input.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, copySelection);
    } else {
      copySelection();
    }
  }

  /** A status line that follows the language (applyLanguage re-translates [data-i18n]); '' empties it. */
  function setStatusKey(node, key) {
    if (key) {
      node.setAttribute('data-i18n', key);
      node.textContent = t(key);
    } else {
      node.removeAttribute('data-i18n');
      node.textContent = '';
    }
  }

  function storePath(path) { return '/stores/' + encodeURIComponent(state.storeId) + path; }

  // ======================================================= product guides ==

  var MAX_STEPS = 50;
  var MAX_MANUAL_BYTES = 10 * 1024 * 1024;
  var GUIDE_FIELDS = ['manual_url', 'video_url', 'install_steps'];

  function newGuides() {
    return { products: null, sku: null, saved: null, steps: [], errors: {}, history: null, busy: false, notice: null };
  }
  var guides = newGuides();

  function productKey() { return 'seller-product:' + state.storeId; }

  function loadProducts() {
    var storeId = state.storeId;
    $('products-status').textContent = t('common.loading');
    return api('GET', storePath('/products')).then(function (result) {
      if (storeId !== state.storeId) return;
      $('products-status').textContent = '';
      if (handled(result)) { loaded.guides = false; return; }
      if (!result.ok) { loaded.guides = false; showAlert(serverError(result.data.error || '')); return; }
      guides.products = result.data.products || [];
      renderProducts();
      if (!guides.sku && guides.products.length) {
        var remembered = null;
        try { remembered = sessionStorage.getItem(productKey()); } catch (e) { remembered = null; }
        var first = guides.products.some(function (p) { return p.sku === remembered; }) ? remembered : guides.products[0].sku;
        selectProduct(first, true);
      }
    });
  }

  function stepCount(n) {
    if (!n) return t('guides.stepCount.none');
    return n === 1 ? t('guides.stepCount.one') : t('guides.stepCount.many', { n: n });
  }

  function renderProducts() {
    var list = $('product-list');
    clear(list);
    if (!guides.products) return;
    if (!guides.products.length) {
      $('products-status').textContent = t('guides.noProducts');
      return;
    }
    guides.products.forEach(function (product) {
      var item = el('li');
      var button = el('button', 'product', { type: 'button', 'data-testid': 'seller-product', 'data-sku': product.sku });
      if (product.sku === guides.sku) button.setAttribute('aria-current', 'true');
      button.appendChild(el('span', 'product-name', { translate: 'no' }, product.name));
      var meta = el('span', 'product-meta');
      meta.appendChild(el('span', 'sku', { translate: 'no' }, product.sku));
      meta.appendChild(doc.createTextNode(' · ' + stepCount((product.install_steps || []).length)));
      button.appendChild(meta);
      button.addEventListener('click', function () { selectProduct(product.sku, false); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function selectProduct(sku, quiet) {
    if (sku === guides.sku) return;
    if (guideDirty() && !window.confirm(t('guides.leaveConfirm'))) return;
    var product = null;
    (guides.products || []).forEach(function (p) { if (p.sku === sku) product = p; });
    if (!product) return;
    guides.sku = sku;
    guides.history = null;
    guides.notice = null;
    try { sessionStorage.setItem(productKey(), sku); } catch (e) { /* fine */ }
    $('guide-upload-status').textContent = '';
    $('guide-upload-error').hidden = true;
    fillGuide(product);
    renderProducts();
    clear($('guide-history-list'));
    loadGuideHistory();
    if (!quiet) $('guide-manual').focus();
  }

  /** The editor shows `product` as saved (its own edits dropped). */
  function fillGuide(product) {
    guides.saved = product;
    guides.errors = {};
    $('guide-empty').hidden = true;
    $('guide-form').hidden = false;
    $('guide-manual').value = product.manual_url || '';
    $('guide-video').value = product.video_url || '';
    guides.steps = (product.install_steps || []).slice();
    renderGuideHead();
    renderSteps();
    renderGuideErrors();
    updateGuideState();
  }

  function renderGuideHead() {
    var saved = guides.saved;
    $('guide-title').textContent = saved.name;
    $('guide-sku').textContent = saved.sku;
    $('guide-version').textContent = saved.version ? t('guides.version', { v: saved.version }) : t('guides.asImported');
    [['manual_url', 'guide-manual-link', 'guide-manual-none'], ['video_url', 'guide-video-link', 'guide-video-none']].forEach(function (f) {
      var link = $(f[1]);
      var href = safeLink(saved[f[0]]);
      link.hidden = !href;
      $(f[2]).hidden = !!href;
      if (href) {
        link.href = href;
        link.textContent = saved[f[0]];
        link.setAttribute('aria-label', t('common.openLink', { url: saved[f[0]] }));
      } else {
        link.removeAttribute('href');
        link.textContent = '';
      }
    });
  }

  function tidyStep(text) { return String(text).replace(/\s+/g, ' ').trim(); }

  function guideForm() {
    return {
      manual_url: $('guide-manual').value.trim() || null,
      video_url: $('guide-video').value.trim() || null,
      install_steps: guides.steps.map(tidyStep).filter(function (s) { return s; })
    };
  }

  function guideDirty() {
    if (!guides.saved) return false;
    var form = guideForm();
    var saved = guides.saved;
    return form.manual_url !== (saved.manual_url || null) || form.video_url !== (saved.video_url || null) ||
      JSON.stringify(form.install_steps) !== JSON.stringify((saved.install_steps || []).map(tidyStep));
  }

  function renderSteps(focus) {
    var list = $('guide-steps');
    clear(list);
    var n = guides.steps.length;
    guides.steps.forEach(function (text, i) {
      var number = i + 1;
      var item = el('li', 'step', { 'data-testid': 'seller-guide-step' });
      item.appendChild(el('span', 'step-number', { 'aria-hidden': 'true' }, String(number)));
      var area = el('textarea', 'textarea step-text', {
        rows: 2, maxlength: 1000, spellcheck: 'true', 'aria-label': t('guides.step', { n: number }),
        'aria-describedby': 'guide-steps-error', 'data-testid': 'seller-guide-step-text', 'data-index': i
      });
      area.value = text;
      area.addEventListener('input', function () { guides.steps[i] = area.value; fitRows(area); guideEdited(); });
      area.addEventListener('keydown', function (event) { stepKey(event, i, area); });
      area.addEventListener('paste', function (event) { stepPaste(event, i, area); });
      item.appendChild(area);
      var tools = el('div', 'step-tools');
      tools.appendChild(stepButton('up', '↑', t('guides.stepUp', { n: number }), i === 0, function () { moveStep(i, -1); }));
      tools.appendChild(stepButton('down', '↓', t('guides.stepDown', { n: number }), i === n - 1, function () { moveStep(i, 1); }));
      tools.appendChild(stepButton('remove', '×', t('guides.stepRemove', { n: number }), false, function () { removeStep(i); }));
      item.appendChild(tools);
      list.appendChild(item);
    });
    $('guide-steps-empty').hidden = n > 0;
    $('guide-add-step').disabled = n >= MAX_STEPS;
    fitAllRows();
    var item = focus ? list.children[focus.index] : null;
    if (item) {
      // The same control on the step's new place; a disabled arrow (at an end of the list) hands over to the other.
      var target = item.querySelector(focus.kind === 'text' ? 'textarea' : '[data-step-action="' + focus.kind + '"]');
      if (!target || target.disabled) target = item.querySelector('[data-step-action="' + (focus.kind === 'up' ? 'down' : 'up') + '"]');
      if (!target || target.disabled) target = item.querySelector('textarea');
      target.focus();
      if (focus.caret != null && target.setSelectionRange) target.setSelectionRange(focus.caret, focus.caret);
    }
  }

  /** A step's box grows with its text (through rows: the CSP leaves styles to seller.css). */
  function fitRows(area) {
    if (!area.clientHeight) return; // hidden: fitted when its tab is shown
    area.rows = 2;
    while (area.scrollHeight > area.clientHeight && area.rows < 12) area.rows += 1;
  }

  function fitAllRows() {
    var areas = $('guide-steps').querySelectorAll('textarea');
    for (var i = 0; i < areas.length; i++) fitRows(areas[i]);
  }

  function stepButton(kind, symbol, label, disabled, onClick) {
    var button = el('button', 'btn btn-quiet step-button', {
      type: 'button', 'aria-label': label, title: label, 'data-step-action': kind, 'data-testid': 'seller-guide-step-' + kind
    });
    button.appendChild(el('span', null, { 'aria-hidden': 'true' }, symbol));
    button.disabled = disabled;
    button.addEventListener('click', onClick);
    return button;
  }

  function moveStep(i, by) {
    var j = i + by;
    if (j < 0 || j >= guides.steps.length) return;
    var moved = guides.steps[i];
    guides.steps[i] = guides.steps[j];
    guides.steps[j] = moved;
    renderSteps({ kind: by < 0 ? 'up' : 'down', index: j });
    guideEdited();
  }

  function removeStep(i) {
    guides.steps.splice(i, 1);
    if (guides.steps.length) renderSteps({ kind: 'text', index: Math.min(i, guides.steps.length - 1) });
    else { renderSteps(); $('guide-add-step').focus(); }
    guideEdited();
  }

  function addStep(at, text, caret) {
    if (guides.steps.length >= MAX_STEPS) {
      guides.errors.install_steps = ['guides.maxSteps', { n: MAX_STEPS }];
      renderGuideErrors();
      return;
    }
    guides.steps.splice(at, 0, text || '');
    renderSteps({ kind: 'text', index: at, caret: caret || 0 });
    guideEdited();
  }

  /** Enter splits the step at the caret into a new one (Shift+Enter too: a step is one line). */
  function stepKey(event, i, area) {
    if (event.key !== 'Enter' || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    var caret = area.selectionStart == null ? area.value.length : area.selectionStart;
    var before = area.value.slice(0, caret);
    var after = area.value.slice(area.selectionEnd == null ? caret : area.selectionEnd);
    guides.steps[i] = before;
    addStep(i + 1, after.replace(/^\s+/, ''), 0);
  }

  /** Several pasted lines become several steps. */
  function stepPaste(event, i, area) {
    var data = event.clipboardData && event.clipboardData.getData('text');
    if (!data || !/[\r\n]/.test(data)) return;
    var lines = data.split(/\r?\n|\r/).map(function (l) { return l.replace(/^\s*(?:\d+[.)、]|[-*•])\s*/, '').trim(); })
      .filter(function (l) { return l; });
    if (!lines.length) return;
    event.preventDefault();
    var start = area.selectionStart == null ? area.value.length : area.selectionStart;
    var end = area.selectionEnd == null ? start : area.selectionEnd;
    var head = area.value.slice(0, start);
    var tail = area.value.slice(end);
    var room = MAX_STEPS - guides.steps.length;
    var extra = lines.slice(1, 1 + room);
    guides.steps[i] = head + lines[0];
    var last = i + extra.length;
    var caret = (extra.length ? extra[extra.length - 1] : guides.steps[i]).length;
    if (extra.length) extra[extra.length - 1] += tail;
    else guides.steps[i] += tail;
    Array.prototype.splice.apply(guides.steps, [i + 1, 0].concat(extra));
    renderSteps({ kind: 'text', index: last, caret: caret });
    if (lines.length - 1 > extra.length) {
      guides.errors.install_steps = ['guides.maxSteps', { n: MAX_STEPS }];
      renderGuideErrors();
    }
    guideEdited();
  }

  function guideEdited() {
    guides.notice = null;
    updateGuideState();
  }

  function updateGuideState() {
    if (!guides.saved) return;
    var dirty = guideDirty();
    $('guide-save').disabled = guides.busy || !dirty;
    $('guide-discard').disabled = guides.busy || !dirty;
    var status = $('guide-status');
    if (guides.busy) status.textContent = t('guides.saving');
    else if (dirty) status.textContent = t('guides.pending');
    else if (guides.notice) status.textContent = t(guides.notice[0], guides.notice[1]);
    else status.textContent = t('guides.none');
  }

  /** Field errors: the server's message (translated when known) under its field. */
  function renderGuideErrors() {
    [['manual_url', 'guide-manual-error', 'guide-manual'], ['video_url', 'guide-video-error', 'guide-video'],
      ['install_steps', 'guide-steps-error', null]].forEach(function (f) {
      var message = guides.errors[f[0]];
      var box = $(f[1]);
      box.hidden = !message;
      box.textContent = !message ? '' : (typeof message === 'string' ? serverError(message) : t(message[0], message[1]));
      if (f[2]) $(f[2]).setAttribute('aria-invalid', message ? 'true' : 'false');
    });
    var other = guides.errors.guide;
    $('guide-error').hidden = !other;
    $('guide-error').textContent = other ? t('guides.error', { message: serverError(other) }) : '';
  }

  function replaceProduct(product) {
    (guides.products || []).forEach(function (p, i) { if (p.sku === product.sku) guides.products[i] = product; });
    renderProducts();
  }

  function saveGuide() {
    if (!guides.saved || guides.busy || !guideDirty()) return;
    var sku = guides.sku;
    var storeId = state.storeId;
    guides.busy = true;
    guides.errors = {};
    renderGuideErrors();
    updateGuideState();
    api('PUT', storePath('/products/' + encodeURIComponent(sku) + '/guide'), guideForm()).then(function (result) {
      if (storeId !== state.storeId || sku !== guides.sku) return;
      guides.busy = false;
      if (result.status === 400) {
        var field = result.data.field || 'guide';
        var message = fieldError(result.data.error, field);
        if (GUIDE_FIELDS.indexOf(field) < 0) field = 'guide';
        guides.errors[field] = message;
        renderGuideErrors();
        updateGuideState();
        var focus = { manual_url: 'guide-manual', video_url: 'guide-video' }[field];
        if (focus) $(focus).focus();
        return;
      }
      if (handled(result)) { updateGuideState(); return; }
      if (!result.ok) { showAlert(serverError(result.data.error || '')); updateGuideState(); return; }
      guides.notice = ['guides.saved', { v: result.data.version }];
      fillGuide(result.data);
      replaceProduct(result.data);
      loadGuideHistory();
    });
  }

  function discardGuide() {
    if (!guides.saved) return;
    guides.notice = null;
    fillGuide(guides.saved);
  }

  // --------------------------------------------------------- manual upload --

  /** What the browser knows before sending: the type, or a .pdf name when the system gives no useful type. */
  function isPdf(file) {
    if (file.type === 'application/pdf' || file.type === 'application/x-pdf') return true;
    return /\.pdf$/i.test(file.name) && (!file.type || file.type === 'application/octet-stream');
  }

  function uploadManual() {
    var input = $('guide-upload');
    var file = input.files && input.files[0];
    input.value = ''; // the same file can be chosen again
    if (!file || !guides.saved) return;
    var status = $('guide-upload-status');
    var error = $('guide-upload-error');
    status.textContent = '';
    error.hidden = true;
    var problem = null;
    if (!isPdf(file)) problem = t('guides.notPdf', { name: file.name });
    else if (file.size > MAX_MANUAL_BYTES) problem = t('guides.tooBig', { name: file.name, size: bytes(file.size) });
    else if (!file.size) problem = t('guides.emptyFile', { name: file.name });
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      return;
    }
    var sku = guides.sku;
    var storeId = state.storeId;
    status.textContent = t('guides.uploading', { name: file.name });
    $('guide-upload').disabled = true;
    apiUpload(storePath('/products/' + encodeURIComponent(sku) + '/manual'), file, 'application/pdf').then(function (result) {
      $('guide-upload').disabled = false;
      if (storeId !== state.storeId || sku !== guides.sku) return;
      status.textContent = '';
      if (!result.ok && result.status !== 401 && result.status !== 0 && result.status !== 403 && result.status < 500) {
        var message = result.status === 413 ? t('guides.tooBig', { name: file.name, size: bytes(file.size) })
          : t('guides.uploadFailed', { message: serverError(result.data.error || String(result.status)) });
        error.textContent = message;
        error.hidden = false;
        return;
      }
      if (handled(result)) return;
      var uploaded = { name: file.name, size: bytes(result.data.size || file.size) };
      // The upload saved a new version with the new link: take it, keeping the seller's other unsaved edits.
      api('GET', storePath('/products/' + encodeURIComponent(sku) + '/guide')).then(function (fresh) {
        if (storeId !== state.storeId || sku !== guides.sku) return;
        var product = fresh.ok ? fresh.data : null;
        if (!product) {
          product = clone(guides.saved);
          product.manual_url = result.data.manual_url;
        }
        guides.saved = product;
        $('guide-manual').value = product.manual_url || '';
        delete guides.errors.manual_url;
        renderGuideHead();
        renderGuideErrors();
        replaceProduct(product);
        guides.notice = ['guides.saved', { v: product.version }];
        updateGuideState();
        status.textContent = t('guides.uploaded', uploaded);
        loadGuideHistory();
      });
    });
  }

  // --------------------------------------------------------- guide history --

  function loadGuideHistory() {
    var sku = guides.sku;
    var storeId = state.storeId;
    return api('GET', storePath('/products/' + encodeURIComponent(sku) + '/guide/history')).then(function (result) {
      if (storeId !== state.storeId || sku !== guides.sku || handled(result)) return;
      if (result.ok) {
        guides.history = result.data.versions || [];
        renderGuideHistory();
      }
    });
  }

  function guideSummary(node, summary) {
    var text = String(summary || '');
    var m;
    if (text === 'as imported') return fillNodes(node, 'guides.summary.asImported');
    if (text === 'no change') return fillNodes(node, 'guides.summary.noChange');
    if ((m = /^restored version (\d+)$/.exec(text))) return fillNodes(node, 'guides.summary.restored', { v: m[1] });
    if ((m = /^uploaded the manual (.+)$/.exec(text))) return fillNodes(node, 'guides.summary.uploaded', { name: m[1] });
    if ((m = /^changed (.*)$/.exec(text))) {
      var what = m[1].split(', ').map(function (f) {
        var key = 'guides.field.' + f;
        return Object.prototype.hasOwnProperty.call(STRINGS.en, key) ? t(key) : f;
      }).join(lang === 'zh-CN' ? '、' : ', ');
      clear(node);
      node.textContent = t('guides.summary.changed', { what: what });
      return node;
    }
    clear(node);
    node.appendChild(el('span', null, { translate: 'no' }, text));
    return node;
  }

  function renderGuideHistory() {
    var versions = guides.history || [];
    renderVersions($('guide-history-list'), versions, versions.length ? versions[0].version : null, {
      testid: 'seller-guide-history', empty: 'guides.historyEmpty', summary: guideSummary,
      restoreText: 'guides.restore', restoreLabel: 'guides.restoreLabel', restoreTestid: 'seller-guide-restore',
      restore: restoreGuide
    });
  }


  function restoreGuide(version, button) {
    if (guideDirty() && !window.confirm(t('guides.restoreConfirm', { v: version }))) return;
    var sku = guides.sku;
    var storeId = state.storeId;
    button.disabled = true;
    api('POST', storePath('/products/' + encodeURIComponent(sku) + '/guide/rollback'), { version: version }).then(function (result) {
      button.disabled = false;
      if (storeId !== state.storeId || sku !== guides.sku || handled(result)) return;
      if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
      guides.notice = ['guides.restored', { old: version, v: result.data.version }];
      fillGuide(result.data);
      replaceProduct(result.data);
      // The clicked button is gone with the old history: the status, which says what happened, takes the focus.
      loadGuideHistory().then(function () { $('guide-status').focus(); });
    });
  }

  // ============================================================== secrets ==

  var SECRET_KINDS = ['shopper', 'webhook'];
  var secretCards = {};
  var secretStatus = null;

  function buildSecretCards() {
    var box = $('secret-cards');
    SECRET_KINDS.forEach(function (kind) {
      var id = 'secret-' + kind;
      var card = el('article', 'card secret', { 'aria-labelledby': id + '-title', 'data-kind': kind, 'data-testid': 'seller-secret-' + kind });
      var head = el('div', 'secret-head');
      head.appendChild(el('h3', 'card-title', { id: id + '-title', 'data-i18n': 'secrets.' + kind + '.title' }, t('secrets.' + kind + '.title')));
      var pill = el('span', 'pill', { 'data-testid': 'seller-secret-' + kind + '-state' });
      head.appendChild(pill);
      card.appendChild(head);
      card.appendChild(el('p', 'secret-what', { 'data-i18n': 'secrets.' + kind + '.what' }, t('secrets.' + kind + '.what')));
      var previous = el('p', 'hint', { 'data-testid': 'seller-secret-' + kind + '-previous' });
      previous.hidden = true;
      card.appendChild(previous);

      var field = el('div', 'field');
      field.hidden = true; // shown once the status says there is an old secret to keep for a while
      field.appendChild(el('label', null, { 'for': id + '-grace', 'data-i18n': 'secrets.grace' }, t('secrets.grace')));
      var grace = el('input', null, {
        id: id + '-grace', type: 'number', min: 0, max: 168, step: 1, inputmode: 'numeric', value: 24,
        'aria-describedby': id + '-grace-hint', 'data-testid': 'seller-secret-' + kind + '-grace'
      });
      field.appendChild(grace);
      field.appendChild(el('p', 'hint', { id: id + '-grace-hint', 'data-i18n': 'secrets.graceHint' }, t('secrets.graceHint')));
      card.appendChild(field);

      var rotate = el('button', 'btn', { type: 'button', 'aria-expanded': 'false', 'aria-controls': id + '-confirm', 'data-i18n': 'secrets.rotate', 'data-testid': 'seller-secret-' + kind + '-rotate' }, t('secrets.rotate'));
      card.appendChild(rotate);
      var error = el('p', 'field-error', { role: 'alert', 'data-testid': 'seller-secret-' + kind + '-error' });
      error.hidden = true;
      card.appendChild(error);

      var confirm = el('div', 'confirm', { id: id + '-confirm', role: 'group', 'aria-labelledby': id + '-confirm-text', 'data-testid': 'seller-secret-' + kind + '-confirm' });
      confirm.hidden = true;
      var confirmText = el('p', null, { id: id + '-confirm-text' });
      confirm.appendChild(confirmText);
      var where = el('p', 'hint', { 'data-i18n': 'secrets.' + kind + '.where' }, t('secrets.' + kind + '.where'));
      confirm.appendChild(where);
      var actions = el('div', 'confirm-actions');
      var yes = el('button', 'btn btn-danger', { type: 'button', 'data-i18n': 'secrets.confirm', 'data-testid': 'seller-secret-' + kind + '-confirm-yes' }, t('secrets.confirm'));
      var no = el('button', 'btn', { type: 'button', 'data-i18n': 'common.cancel', 'data-testid': 'seller-secret-' + kind + '-confirm-no' }, t('common.cancel'));
      actions.appendChild(yes);
      actions.appendChild(no);
      confirm.appendChild(actions);
      card.appendChild(confirm);

      var reveal = el('div', 'reveal', { role: 'group', 'aria-labelledby': id + '-value-label', 'data-testid': 'seller-secret-' + kind + '-new' });
      reveal.hidden = true;
      reveal.appendChild(el('label', null, { id: id + '-value-label', 'for': id + '-value', 'data-i18n': 'secrets.newSecret' }, t('secrets.newSecret')));
      var row = el('div', 'copy-row');
      var value = el('input', 'mono', {
        id: id + '-value', type: 'text', readonly: '', translate: 'no', autocomplete: 'off', spellcheck: 'false',
        'aria-describedby': id + '-once', 'data-testid': 'seller-secret-' + kind + '-value'
      });
      var copy = el('button', 'btn', { type: 'button', 'data-i18n': 'common.copy', 'data-testid': 'seller-secret-' + kind + '-copy' }, t('common.copy'));
      row.appendChild(value);
      row.appendChild(copy);
      reveal.appendChild(row);
      var copyStatus = el('p', 'copy-status', { role: 'status' });
      reveal.appendChild(copyStatus);
      reveal.appendChild(el('p', 'callout-warn', { id: id + '-once', 'data-i18n': 'secrets.once' }, t('secrets.once')));
      var until = el('p', 'hint', { 'data-testid': 'seller-secret-' + kind + '-until' });
      reveal.appendChild(until);
      var done = el('button', 'btn btn-small', { type: 'button', 'data-i18n': 'common.done', 'data-testid': 'seller-secret-' + kind + '-done' }, t('common.done'));
      reveal.appendChild(done);
      card.appendChild(reveal);
      box.appendChild(card);

      var c = {
        kind: kind, pill: pill, previous: previous, grace: grace, rotate: rotate, error: error, confirm: confirm,
        confirmText: confirmText, yes: yes, no: no, reveal: reveal, value: value, copy: copy, copyStatus: copyStatus,
        until: until, untilValue: undefined, graceField: field, busy: false, wasSet: true
      };
      secretCards[kind] = c;
      rotate.addEventListener('click', function () { openConfirm(kind); });
      no.addEventListener('click', function () { closeConfirm(kind); rotate.focus(); });
      yes.addEventListener('click', function () { rotateSecret(kind); });
      copy.addEventListener('click', function () { copyField(value, copyStatus); });
      done.addEventListener('click', function () { hideSecret(kind); rotate.focus(); });
      grace.addEventListener('input', function () { error.hidden = true; if (!confirm.hidden) renderConfirm(kind); });
    });
  }

  function isSet(kind) {
    return !!(secretStatus && secretStatus[kind] && secretStatus[kind].set);
  }

  function graceHours(kind) {
    if (!isSet(kind)) return 0; // nothing to keep working
    var text = String(secretCards[kind].grace.value).trim();
    if (!/^\d+$/.test(text)) return null;
    var hours = parseInt(text, 10);
    return hours >= 0 && hours <= 168 ? hours : null;
  }

  function openConfirm(kind) {
    var c = secretCards[kind];
    c.error.hidden = true;
    if (graceHours(kind) === null) {
      c.error.textContent = t('secrets.graceBad');
      c.error.hidden = false;
      c.grace.setAttribute('aria-invalid', 'true');
      c.grace.focus();
      return;
    }
    c.grace.setAttribute('aria-invalid', 'false');
    hideSecret(kind);
    c.confirm.hidden = false;
    c.rotate.setAttribute('aria-expanded', 'true');
    renderConfirm(kind);
    c.yes.focus();
  }

  function renderConfirm(kind) {
    var c = secretCards[kind];
    var hours = graceHours(kind);
    c.confirmText.textContent = !isSet(kind) ? t('secrets.confirmFirst')
      : (hours ? t('secrets.confirmText', { h: hours }) : t('secrets.confirmTextNow'));
    c.yes.disabled = c.busy || hours === null;
  }

  function closeConfirm(kind) {
    var c = secretCards[kind];
    c.confirm.hidden = true;
    c.rotate.setAttribute('aria-expanded', 'false');
  }

  function hideSecret(kind) {
    var c = secretCards[kind];
    c.value.value = '';
    setStatusKey(c.copyStatus, '');
    c.untilValue = undefined;
    c.reveal.hidden = true;
  }

  function rotateSecret(kind) {
    var c = secretCards[kind];
    var hours = graceHours(kind);
    if (hours === null || c.busy) return;
    var storeId = state.storeId;
    var wasSet = isSet(kind);
    c.busy = true;
    c.yes.disabled = true;
    c.yes.textContent = t('secrets.rotating');
    api('POST', storePath('/secrets/' + kind + '/rotate'), { grace_hours: hours }).then(function (result) {
      c.busy = false;
      c.yes.textContent = t('secrets.confirm');
      c.yes.disabled = false;
      if (storeId !== state.storeId || handled(result)) return;
      if (!result.ok || typeof result.data.secret !== 'string') {
        c.error.textContent = t('secrets.failed', { message: serverError(result.data.error || String(result.status)) });
        c.error.hidden = false;
        return;
      }
      closeConfirm(kind);
      c.value.value = result.data.secret;
      c.untilValue = result.data.previous_valid_until || null;
      c.wasSet = wasSet;
      c.reveal.hidden = false;
      renderSecrets();
      c.value.focus();
      c.value.select();
      loadSecrets();
    });
  }

  // The team tab's data: dropped if the seller switched stores meanwhile; after a refused
  // session the tab loads again when it is next opened.
  function loadForTeamTab(path, use) {
    var storeId = state.storeId;
    return api('GET', storePath(path)).then(function (result) {
      if (storeId !== state.storeId) return;
      if (handled(result)) { loaded.team = false; return; }
      if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
      use(result.data);
    });
  }

  function loadSecrets() {
    return loadForTeamTab('/secrets', function (data) {
      secretStatus = data;
      renderSecrets();
    });
  }

  function renderSecrets() {
    SECRET_KINDS.forEach(function (kind) {
      var c = secretCards[kind];
      if (!c) return;
      var s = secretStatus && secretStatus[kind];
      c.pill.hidden = !s;
      c.pill.textContent = s ? t(s.set ? 'secrets.set' : 'secrets.notSet') : '';
      c.pill.className = 'pill ' + (s && s.set ? 'pill-ok' : 'pill-off');
      c.previous.hidden = !(s && s.previous_valid_until);
      if (s && s.previous_valid_until) c.previous.textContent = t('secrets.previous', { when: when(s.previous_valid_until) });
      if (!c.confirm.hidden) renderConfirm(kind);
      c.graceField.hidden = !(s && s.set);
      var action = s && !s.set ? 'secrets.create' : 'secrets.rotate';
      c.rotate.setAttribute('data-i18n', action);
      c.rotate.textContent = t(action);
      if (c.untilValue !== undefined) {
        c.until.textContent = c.untilValue ? t('secrets.until', { when: when(c.untilValue) })
          : t(c.wasSet ? 'secrets.untilNone' : 'secrets.first');
      }
    });
  }

  // ========================================================== failed jobs ==

  var failedJobs = { list: null, busy: null, notice: null };

  function loadFailedJobs() {
    return loadForTeamTab('/jobs?status=failed', function (data) {
      failedJobs.list = data.jobs || [];
      renderFailedJobs();
    });
  }

  function knownText(prefix, value) {
    var key = prefix + value;
    return Object.prototype.hasOwnProperty.call(STRINGS.en, key) ? t(key) : String(value);
  }

  function renderFailedJobs() {
    var rows = $('jobs-rows');
    clear(rows);
    var list = failedJobs.list || [];
    if (!list.length) {
      var empty = el('tr');
      empty.appendChild(el('td', 'empty empty-small', { colspan: 5 }, t('jobs.none')));
      rows.appendChild(empty);
    }
    list.forEach(function (job) {
      var row = el('tr', null, { 'data-testid': 'seller-failed-job', 'data-job': String(job.id) });
      row.appendChild(el('td', null, { id: 'job-' + job.id }, knownText('jobs.kind.', job.kind)));
      var about = [job.order_number, job.tracking_number].filter(Boolean).join(' · ');
      row.appendChild(el('td', 'mono', { translate: 'no' }, about || '—'));
      row.appendChild(el('td', null, { 'data-testid': 'seller-failed-job-reason' }, knownText('jobs.reason.', job.reason)));
      row.appendChild(el('td', null, null, job.failed_at ? when(job.failed_at) : '—'));
      var cell = el('td', 'member-actions');
      var retry = el('button', 'btn btn-small', {
        type: 'button', id: 'job-' + job.id + '-retry', 'aria-labelledby': 'job-' + job.id + '-retry job-' + job.id,
        'data-testid': 'seller-failed-job-retry'
      }, t(failedJobs.busy === job.id ? 'jobs.retrying' : 'jobs.retry'));
      retry.disabled = failedJobs.busy !== null;
      retry.addEventListener('click', function () { retryJob(job); });
      cell.appendChild(retry);
      row.appendChild(cell);
      rows.appendChild(row);
    });
    var status = $('jobs-status');
    status.textContent = failedJobs.notice ? t(failedJobs.notice[0], failedJobs.notice[1]) : '';
  }

  function retryJob(job) {
    if (failedJobs.busy !== null) return;
    var storeId = state.storeId;
    failedJobs.busy = job.id;
    failedJobs.notice = null;
    renderFailedJobs();
    api('POST', storePath('/jobs/' + encodeURIComponent(job.id) + '/retry')).then(function (result) {
      if (storeId !== state.storeId) return;
      failedJobs.busy = null;
      if (handled(result)) { renderFailedJobs(); return; }
      if (result.ok) {
        failedJobs.list = (failedJobs.list || []).filter(function (j) { return j.id !== job.id; });
        failedJobs.notice = ['jobs.retried', {}];
      } else {
        failedJobs.notice = ['jobs.retryFailed', { message: serverError(result.data.error || '') }];
      }
      renderFailedJobs();
    });
  }

  // ================================================================= team ==

  var team = { members: null, invitations: [], confirming: null, busy: false, notice: null };
  var created = null; // {email, url}: the invitation link, shown once, forgotten on "hide", a store switch or signing out

  function loadTeam() {
    return loadForTeamTab('/team', function (data) {
      team.members = data.team || [];
      team.invitations = data.invitations || [];
      renderTeam();
    });
  }

  function roleName(role) {
    var key = 'team.role.' + role;
    return Object.prototype.hasOwnProperty.call(STRINGS.en, key) ? t(key) : role;
  }

  function isMe(email) {
    return !!(state.me && String(state.me.email || '').toLowerCase() === String(email).toLowerCase());
  }

  function renderTeam() {
    var rows = $('team-rows');
    var focusEmail = null;
    var active = doc.activeElement;
    if (active && rows.contains(active)) focusEmail = active.getAttribute('data-focus-key');
    clear(rows);
    var members = team.members || [];
    if (!members.length && !team.invitations.length) {
      var empty = el('tr');
      empty.appendChild(el('td', 'empty empty-small', { colspan: 4 }, t('team.empty')));
      rows.appendChild(empty);
    }
    members.forEach(function (m, index) {
      var row = el('tr', null, { 'data-testid': 'seller-team-member', 'data-email': m.email });
      row.appendChild(el('td', 'member-name', { id: 'member-' + index, translate: 'no', 'data-testid': 'seller-team-member-name' }, m.name));
      row.appendChild(el('td', 'member-email', { translate: 'no' }, m.email));
      row.appendChild(el('td', null, { 'data-testid': 'seller-team-member-role' }, roleName(m.role)));
      var actions = el('td', 'member-actions');
      if (isMe(m.email)) {
        actions.appendChild(el('span', 'pill', { 'data-testid': 'seller-team-you' }, t('team.you')));
      } else if (team.confirming === m.email) {
        var box = el('div', 'confirm confirm-inline', { role: 'group', 'aria-labelledby': 'member-' + index + '-confirm' });
        box.appendChild(fillNodes(el('p', null, { id: 'member-' + index + '-confirm' }), 'team.removeConfirm', { name: m.name }));
        var buttons = el('div', 'confirm-actions');
        var yes = el('button', 'btn btn-danger btn-small', { type: 'button', 'data-focus-key': 'yes:' + m.email, 'data-testid': 'seller-team-remove-yes' }, t('team.removeYes'));
        var no = el('button', 'btn btn-small', { type: 'button', 'data-focus-key': 'no:' + m.email, 'data-testid': 'seller-team-remove-no' }, t('common.cancel'));
        yes.disabled = team.busy;
        yes.addEventListener('click', function () { removeMember(m); });
        no.addEventListener('click', function () { team.confirming = null; renderTeam(); focusKey('remove:' + m.email); });
        buttons.appendChild(yes);
        buttons.appendChild(no);
        box.appendChild(buttons);
        actions.appendChild(box);
      } else {
        // Its name for assistive tech is its own text and the member's: "Remove Lin Wei".
        var remove = el('button', 'btn btn-small', {
          type: 'button', id: 'member-' + index + '-remove', 'aria-labelledby': 'member-' + index + '-remove member-' + index,
          'data-focus-key': 'remove:' + m.email, 'data-testid': 'seller-team-remove'
        }, t('team.remove'));
        remove.addEventListener('click', function () {
          team.confirming = m.email;
          renderTeam();
          focusKey('yes:' + m.email);
        });
        actions.appendChild(remove);
      }
      row.appendChild(actions);
      rows.appendChild(row);
    });
    team.invitations.forEach(function (inv, index) {
      // Not a member yet: the link decides who joins. Withdrawing kills the link.
      var row = el('tr', 'is-invited', { 'data-testid': 'seller-team-invitation', 'data-email': inv.email });
      row.appendChild(el('td', 'member-name', { id: 'invitation-' + index, translate: 'no' }, inv.name));
      row.appendChild(el('td', 'member-email', { translate: 'no' }, inv.email));
      var role = el('td', null, { 'data-testid': 'seller-team-member-role' }, roleName(inv.role) + ' ');
      role.appendChild(el('span', 'pill', { 'data-testid': 'seller-team-invited' }, t('team.invited')));
      row.appendChild(role);
      var actions = el('td', 'member-actions');
      var withdraw = el('button', 'btn btn-small', {
        type: 'button', id: 'invitation-' + index + '-withdraw', 'aria-labelledby': 'invitation-' + index + '-withdraw invitation-' + index,
        'data-focus-key': 'withdraw:' + inv.email, 'data-testid': 'seller-team-withdraw'
      }, t('team.withdraw'));
      withdraw.disabled = team.busy;
      withdraw.addEventListener('click', function () { removeMember(inv, 'team.withdrawn'); });
      actions.appendChild(withdraw);
      row.appendChild(actions);
      rows.appendChild(row);
    });
    if (focusEmail) focusKey(focusEmail);
    var status = $('team-status');
    if (!team.notice) clear(status);
    else fillNodes(status, team.notice[0], { name: team.notice[1].name, email: team.notice[1].email, role: roleName(team.notice[1].role) }, ['role']);
  }

  function focusKey(key) {
    var buttons = $('team-rows').querySelectorAll('[data-focus-key]');
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].getAttribute('data-focus-key') === key) { buttons[i].focus(); return; }
    }
  }

  function removeMember(member, doneKey) {
    if (team.busy) return;
    var storeId = state.storeId;
    team.busy = true;
    renderTeam();
    api('DELETE', storePath('/team/' + encodeURIComponent(member.email))).then(function (result) {
      team.busy = false;
      if (storeId !== state.storeId) return;
      team.confirming = null;
      if (handled(result)) { renderTeam(); return; }
      if (!result.ok) {
        team.notice = null;
        renderTeam();
        showAlert(serverError(result.data.error || ''));
        return;
      }
      team.notice = [doneKey || 'team.removed', { name: member.name }];
      loadTeam().then(function () { $('team-name').focus(); });
    });
  }

  function addMember(event) {
    event.preventDefault();
    if (team.busy) return;
    var name = $('team-name').value.trim();
    var email = $('team-email').value.trim();
    var role = $('team-role').value;
    var error = $('team-error');
    error.hidden = true;
    $('team-name').setAttribute('aria-invalid', 'false');
    $('team-email').setAttribute('aria-invalid', 'false');
    if (!name || !email) {
      error.textContent = t('team.missing');
      error.hidden = false;
      var missing = !name ? 'team-name' : 'team-email';
      $(missing).setAttribute('aria-invalid', 'true');
      $(missing).focus();
      return;
    }
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      error.textContent = t('team.badEmail');
      error.hidden = false;
      $('team-email').setAttribute('aria-invalid', 'true');
      $('team-email').focus();
      return;
    }
    var storeId = state.storeId;
    team.busy = true;
    hideLink();
    $('team-add').disabled = true;
    $('team-add').textContent = t('team.adding');
    api('POST', storePath('/team'), { email: email, name: name, role: role }).then(function (result) {
      team.busy = false;
      $('team-add').disabled = false;
      $('team-add').textContent = t('team.addButton');
      if (storeId !== state.storeId || handled(result)) return;
      if (!result.ok) {
        error.textContent = t('team.failed', { message: serverError(result.data.error || String(result.status)) });
        error.hidden = false;
        $('team-email').focus();
        return;
      }
      $('team-form').reset();
      var url = typeof result.data.invitation_url === 'string' ? result.data.invitation_url : '';
      if (result.status === 201 && /^https?:\/\//.test(url)) {
        team.notice = null;
        created = { email: result.data.email, url: url };
        renderCreated();
        $('team-link').focus();
        $('team-link').select();
      } else {
        team.notice = ['team.roleChanged', { email: result.data.email, role: result.data.role }];
      }
      loadTeam();
    });
  }

  function renderCreated() {
    var box = $('team-created');
    box.hidden = !created;
    if (!created) return;
    fillNodes($('team-created-text'), 'team.inviteReady', { email: created.email });
    if ($('team-link').value !== created.url) $('team-link').value = created.url;
  }

  function hideLink() {
    created = null;
    $('team-link').value = '';
    setStatusKey($('team-copy-status'), '');
    $('team-created').hidden = true;
  }

  // ==================================================== test conversation ==

  var test = { started: false, busy: false, notice: null };
  var testRuns = 0; // numbers the frames, for whoever waits for the new one

  function renderTest() {
    var button = $('test-start');
    var key = test.busy ? 'test.starting' : (test.started ? 'test.restart' : 'test.start');
    button.setAttribute('data-i18n', key);
    button.textContent = t(key);
    button.disabled = test.busy;
    $('test-status').textContent = test.notice ? t(test.notice[0], test.notice[1]) : '';
  }

  /** A fresh sample shopper each time: the chat starts from the greeting, with the settings as saved now. */
  function startTest() {
    if (test.busy || !state.storeId) return;
    var storeId = state.storeId;
    test.busy = true;
    test.notice = null;
    renderTest();
    api('POST', storePath('/test-chat')).then(function (result) {
      test.busy = false;
      if (storeId !== state.storeId) return;
      if (handled(result)) { loaded.test = false; renderTest(); return; }
      var url = result.ok && typeof result.data.url === 'string' ? result.data.url : '';
      // Only a page of this site (a path), never another origin or a script URL.
      if (!/^\/(?![\/\\])/.test(url)) {
        test.notice = ['test.failed', { message: serverError(result.data.error || String(result.status)) }];
        renderTest();
        return;
      }
      var box = $('test-frame-box');
      var old = box.querySelector('iframe');
      if (old) box.removeChild(old);
      // A new frame each time (not a new src): no entries in the console's own back/forward history.
      var frame = el('iframe', 'test-frame', {
        title: t('test.frameTitle'), 'data-i18n-title': 'test.frameTitle', src: url, referrerpolicy: 'same-origin',
        'data-run': ++testRuns, 'data-testid': 'seller-test-frame'
      });
      box.appendChild(frame);
      $('test-placeholder').hidden = true;
      test.started = true;
      test.notice = ['test.started'];
      renderTest();
    });
  }

  // ================================================================ start ==

  function startPanels() {
    buildSecretCards();
    TABS.forEach(function (tab) {
      $('tab-' + tab).addEventListener('click', function () { showTab(tab, false); });
    });
    $('tablist').addEventListener('keydown', tabKeys);
    window.addEventListener('hashchange', function () {
      if (/^#invitation=/.test(window.location.hash)) { openedInvitationLink(); return; }
      if (tabFromHash() !== currentTab) showTab(tabFromHash(), false);
    });
    $('guide-manual').addEventListener('input', function () { delete guides.errors.manual_url; renderGuideErrors(); guideEdited(); });
    $('guide-video').addEventListener('input', function () { delete guides.errors.video_url; renderGuideErrors(); guideEdited(); });
    $('guide-add-step').addEventListener('click', function () { addStep(guides.steps.length, '', 0); });
    $('guide-save').addEventListener('click', saveGuide);
    $('guide-discard').addEventListener('click', discardGuide);
    $('guide-upload').addEventListener('change', uploadManual);
    $('team-form').addEventListener('submit', addMember);
    $('team-copy').addEventListener('click', function () { copyField($('team-link'), $('team-copy-status')); });
    $('team-created-done').addEventListener('click', function () { hideLink(); $('team-name').focus(); });
    $('test-start').addEventListener('click', startTest);
    var resizeTimer = null;
    window.addEventListener('resize', function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(fitAllRows, 150);
    });
    resetPanels();
    showTab(tabFromHash(), false);
  }

  // ========================================================== invitations ==
  // A team invitation link is /seller#invitation=TOKEN: the token rides in the fragment (never sent
  // to a server, so no log holds it), is taken out of the address at once and kept for this page.
  // Signed out, the person answers it with a password (a new one, or their existing account's);
  // signed in, they accept it. Only the link accepts: seeing an invitation is not enough.

  var invite = { token: null, mine: [], notice: null, busy: false };

  function takeInvitationToken() {
    var match = /^#invitation=([A-Za-z0-9_-]{20,200})$/.exec(String(window.location.hash || ''));
    if (!match) return;
    invite.token = match[1];
    try { window.history.replaceState(null, '', window.location.pathname + window.location.search); } catch (e) { /* fine */ }
  }

  /** A link pasted into a console already open: signed in, offer to accept it; else the join form. */
  function openedInvitationLink() {
    takeInvitationToken();
    if (!invite.token) return;
    if (state.me) { invite.notice = null; renderMyInvitations(); }
    else showJoin();
  }

  function postLoginForm(path, body) {
    return fetch(API + path, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': loginToken() },
      body: JSON.stringify(body)
    }).then(readAnswer, networkFailure);
  }

  /** Signed out with a link: what it invites to, and the password form. */
  function showJoin() {
    postLoginForm('/invitation', { token: invite.token }).then(function (result) {
      if (result.status === 404) { invite.token = null; showLogin(); showAlert(t('join.dead')); return; }
      if (!result.ok || !result.data.invitation) { showLogin(); showAlert(t('error.server', { status: result.status })); return; }
      var inv = result.data.invitation;
      showLogin();
      fillNodes($('join-text'), 'join.text', { store: inv.store.name, email: inv.email, role: roleName(inv.role) }, ['role']);
      $('join-name').value = inv.name || '';
      $('login-form').hidden = true;
      $('join-form').hidden = false;
      $('join-password').focus();
    });
  }

  function joinTeam(event) {
    event.preventDefault();
    if (invite.busy || !invite.token) return;
    var password = $('join-password').value;
    if (password.length < 10) { showAlert(t('join.short')); $('join-password').focus(); return; }
    invite.busy = true;
    var submit = $('join-submit');
    submit.disabled = true;
    submit.textContent = t('join.joining');
    postLoginForm('/join', { token: invite.token, password: password, name: $('join-name').value.trim() }).then(function (result) {
      invite.busy = false;
      submit.disabled = false;
      submit.textContent = t('join.submit');
      if (result.ok) {
        $('join-password').value = '';
        invite.token = null;
        $('join-form').hidden = true;
        $('login-form').hidden = false;
        signedIn(result.data);
      } else if (result.status === 401) {
        showAlert(t('join.wrong'));
      } else if (result.status === 400) {
        showAlert(t('join.short'));
      } else if (result.status === 404) {
        invite.token = null;
        $('join-form').hidden = true;
        $('login-form').hidden = false;
        showAlert(t('join.dead'));
      } else if (result.status === 429) {
        showAlert(t('login.throttled', { s: result.headers.get('Retry-After') || '60' }));
      } else if (result.status === 403) {
        refreshLoginToken().then(function () { showAlert(t('error.csrf')); });
      } else {
        showAlert(result.status ? t('error.server', { status: result.status }) : t('error.network'));
      }
    });
  }

  function loadMyInvitations() {
    return api('GET', '/invitations').then(function (result) {
      if (!result.ok) return;
      invite.mine = result.data.invitations || [];
      renderMyInvitations();
    });
  }

  function renderMyInvitations() {
    var list = $('my-invites-list');
    clear(list);
    if (invite.token) {
      var opened = el('li', 'invite', { 'data-testid': 'seller-invite-opened' });
      opened.appendChild(el('span', null, null, t('invites.opened') + ' '));
      var accept = el('button', 'btn btn-primary btn-small', { type: 'button', 'data-testid': 'seller-invite-accept' }, t('invites.accept'));
      accept.disabled = invite.busy;
      accept.addEventListener('click', acceptInvitation);
      opened.appendChild(accept);
      list.appendChild(opened);
    }
    invite.mine.forEach(function (inv) {
      var item = el('li', 'invite', { 'data-testid': 'seller-invite', 'data-id': inv.id });
      item.appendChild(fillNodes(el('span'), 'invites.item', { store: inv.store.name, role: roleName(inv.role), by: inv.invited_by }, ['role']));
      item.appendChild(doc.createTextNode(' '));
      var decline = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'seller-invite-decline' }, t('invites.decline'));
      decline.disabled = invite.busy;
      decline.addEventListener('click', function () { declineInvitation(inv); });
      item.appendChild(decline);
      list.appendChild(item);
    });
    if (invite.mine.length && !invite.token) list.appendChild(el('li', 'invite-hint', null, t('invites.howTo')));
    var status = $('my-invites-status');
    if (invite.notice) fillNodes(status, invite.notice[0], invite.notice[1], ['role']);
    else clear(status);
    $('my-invites').hidden = !invite.token && !invite.mine.length && !invite.notice;
  }

  function acceptInvitation() {
    if (invite.busy || !invite.token) return;
    invite.busy = true;
    renderMyInvitations();
    api('POST', '/invitations/accept', { token: invite.token }).then(function (result) {
      invite.busy = false;
      if (result.status === 404) { invite.token = null; invite.notice = ['invites.dead', {}]; renderMyInvitations(); return; }
      if (handled(result)) { renderMyInvitations(); return; }
      if (!result.ok) { showAlert(serverError(result.data.error || '')); renderMyInvitations(); return; }
      invite.token = null;
      var inv = result.data.accepted;
      invite.notice = ['invites.accepted', { store: inv.store.name, role: roleName(inv.role) }];
      signedIn(result.data); // the new store is in the account now
    });
  }

  function declineInvitation(inv) {
    if (invite.busy) return;
    invite.busy = true;
    renderMyInvitations();
    api('POST', '/invitations/' + encodeURIComponent(inv.id) + '/decline').then(function (result) {
      invite.busy = false;
      if (handled(result)) { renderMyInvitations(); return; }
      invite.notice = result.ok ? ['invites.declined', {}] : null;
      if (!result.ok) showAlert(serverError(result.data.error || ''));
      loadMyInvitations();
    });
  }

  // ---------------------------------------------------------------- login --

  function login(event) {
    event.preventDefault();
    var email = $('login-email').value.trim();
    var password = $('login-password').value;
    if (!email || !password) { showAlert(t('login.missing')); return; }
    var submit = $('login-submit');
    submit.disabled = true;
    submit.textContent = t('login.signingIn');
    fetch(API + '/login', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': loginToken() },
      body: JSON.stringify({ email: email, password: password })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        submit.disabled = false;
        submit.textContent = t('login.submit');
        if (response.ok) {
          $('login-password').value = '';
          signedIn(body);
        } else if (response.status === 429) {
          showAlert(t('login.throttled', { s: response.headers.get('Retry-After') || '60' }));
        } else if (response.status === 403) {
          refreshLoginToken().then(function () { showAlert(t('error.csrf')); });
        } else if (response.status === 401) {
          showAlert(t('login.wrong'));
        } else {
          showAlert(t('error.server', { status: response.status }));
        }
      });
    }, function () {
      submit.disabled = false;
      submit.textContent = t('login.submit');
      showAlert(t('error.network'));
    });
  }

  function logout() {
    api('POST', '/logout').then(function () {
      try { sessionStorage.removeItem('seller-store'); } catch (e) { /* fine */ }
      signedOut('');
    });
  }

  // ---------------------------------------------------------------- start --

  function start() {
    takeInvitationToken();
    try { lang = localStorage.getItem(LANG_KEY) === 'zh-CN' ? 'zh-CN' : 'en'; } catch (e) { lang = 'en'; }
    applyLanguage();
    $('lang-en').addEventListener('click', function () { setLanguage('en'); });
    $('lang-zh').addEventListener('click', function () { setLanguage('zh-CN'); });
    $('alert-close').addEventListener('click', function () { showAlert(''); });
    $('login-form').addEventListener('submit', login);
    $('join-form').addEventListener('submit', joinTeam);
    $('join-sign-in').addEventListener('click', function () {
      $('join-form').hidden = true;
      $('login-form').hidden = false;
      $('login-email').focus();
    });
    $('logout').addEventListener('click', logout);
    $('save').addEventListener('click', save);
    $('discard').addEventListener('click', discard);
    $('store-picker').addEventListener('change', function () {
      if (((state.data && countChanges(buildPatch())) || guideDirty()) && !window.confirm(t('console.switchConfirm'))) {
        $('store-picker').value = state.storeId;
        return;
      }
      openStore($('store-picker').value);
    });
    ['review-delay', 'review-url', 'reply-time'].forEach(function (id) { $(id).addEventListener('input', formEdited); });
    startPanels();
    $('review-reminder').addEventListener('change', formEdited);
    api('GET', '/me').then(function (result) {
      if (result.ok) signedIn(result.data);
      else if (invite.token) showJoin();
      else showLogin();
    });
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', start);
  else start();
})();
