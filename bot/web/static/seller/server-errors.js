/**
 * The server's refusals as the seller reads them.
 *
 *   serverError(message)     the server's English message, in Chinese when the console is (and the message is known)
 *   fieldError(error, field) a refused save's message for one field, without the "nothing saved: " and "<field>: "
 *                            prefixes, since the console shows it beside the field, in its own words
 *
 * The Chinese comes from matching the English sentences: rewording one in Python leaves it in English
 * here (issue 15 replaces this with error codes).
 */

import { language } from '../shared/i18n.js';

/** The server's template errors, in Chinese (the English text is the server's own). */
const ERROR_ZH = [
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

export function serverError(message) {
  if (language() !== 'zh-CN') return message;
  const text = String(message || '');
  for (const [pattern, chinese] of ERROR_ZH) {
    if (pattern.test(text)) return text.replace(pattern, chinese);
  }
  return text;
}

export function fieldError(error, field) {
  return String(error || '').replace(/^nothing saved: /, '').replace(field + ': ', '');
}
