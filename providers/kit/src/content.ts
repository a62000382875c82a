import { ErrorCode, badRequest } from '@waygate/core';
import { isObj } from './json.js';

/**
 * The text of an OpenAI message's content, for providers that take text only: null or absent is '',
 * a string is itself, an array is its text parts joined. Content of another type is a 400
 * (`{where}: content must be a string or an array of parts`); so is any other part, with the message
 * `notText(part)` names after `{where}[j]: `, and the part as the param.
 */
export function contentText(content: unknown, where: string, notText: (part: unknown) => string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw badRequest(ErrorCode.INVALID_REQUEST, `${where}: content must be a string or an array of parts`, where);
  return content
    .map((part, j) => {
      if (isObj(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
      throw badRequest(ErrorCode.INVALID_REQUEST, `${where}[${j}]: ${notText(part)}`, `${where}[${j}]`);
    })
    .join('');
}
