/**
 * The seller console's names for the server's keys (templates, handoff reasons, weekdays, placeholders,
 * roles, failed jobs), in both languages.
 *
 *   pick(pair)                      the current language's half of an [English, Chinese] pair
 *   templateName(key)               a template's name ("Review thank-you" / "评价感谢"); the key if unknown
 *   templateHint(key)               when it is sent
 *   reasonName(reason)              a handoff reason's name
 *   weekdayName(day)                "Monday" / "星期一" for "mon"
 *   placeholderDescription(name, fromServer)   in Chinese from here, in English as the server describes it
 *   roleName(role)                  a team role's name, from the texts ("team.role.<role>"); the role if unknown
 *   knownText(prefix, value)        the text of prefix + value if there is one, else the value itself
 *
 * The pairs stay as they were before the console was split into modules; a test checks that every
 * template, reason and placeholder the server knows is named here.
 */

import { hasText, language, t } from '../shared/i18n.js';

/** Names and hints of the templates, reasons, weekdays and placeholders, in both languages. */
export const TEMPLATE_NAMES = {
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
  out_of_hours: ['Out-of-hours notice', '非工作时间通知', 'Outside business hours.', '非营业时间发送。'],
  email_subject: ['Email subject', '邮件主题', 'The subject of an email with the messages a shopper has not read.', '包含买家未读消息的邮件的主题。'],
  email_intro: ['Email introduction', '邮件开头', 'The first line of that email, before the messages.', '该邮件在消息之前的第一行。'],
  email_footer: ['Email footer', '邮件结尾', 'The last line of that email, after the messages.', '该邮件在消息之后的最后一行。']
};
export const REASON_NAMES = {
  not_received: ['Parcel not received', '未收到包裹'],
  damaged: ['Arrived damaged', '商品损坏'],
  missing_parts: ['Missing parts', '缺少零件'],
  wrong_item: ['Wrong item', '发错商品'],
  shopper_request: ['Shopper asks for a person (always)', '买家要求人工（始终转接）'],
  not_understood: ['The assistant did not understand', '智能助手无法理解'],
  identity_check_failed: ['Identity check failed', '身份验证失败']
};
export const WEEKDAY_NAMES = {
  mon: ['Monday', '星期一'], tue: ['Tuesday', '星期二'], wed: ['Wednesday', '星期三'], thu: ['Thursday', '星期四'],
  fri: ['Friday', '星期五'], sat: ['Saturday', '星期六'], sun: ['Sunday', '星期日']
};
const PLACEHOLDER_ZH = {
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
export function pick(pair) {
  return language() === 'zh-CN' ? pair[1] : pair[0];
}

export function templateName(key) {
  const names = TEMPLATE_NAMES[key];
  return names ? pick(names) : key;
}

export function templateHint(key) {
  const names = TEMPLATE_NAMES[key];
  return names ? (language() === 'zh-CN' ? names[3] : names[2]) : '';
}

export function reasonName(reason) {
  return REASON_NAMES[reason] ? pick(REASON_NAMES[reason]) : reason;
}

export function weekdayName(day) {
  return pick(WEEKDAY_NAMES[day] || ['', '']);
}

export function placeholderDescription(name, fromServer) {
  if (language() === 'zh-CN' && PLACEHOLDER_ZH[name]) return PLACEHOLDER_ZH[name];
  return (fromServer || {})[name] || name;
}

export function knownText(prefix, value) {
  return hasText(prefix + value) ? t(prefix + value) : String(value);
}

export function roleName(role) {
  return hasText('team.role.' + role) ? t('team.role.' + role) : role;
}
