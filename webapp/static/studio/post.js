/* The studio's one way to call its JSON endpoints: same-origin, with the page's CSRF token; an answer
   that is not JSON (a proxy error page, an expired login) becomes a message the page can show. And its
   one way to save an editor's XML (the diagram, a decision table) into the draft. */
(function () {
  "use strict";
  window.OnewindowStudio = window.OnewindowStudio || {};
  window.OnewindowStudio.postJson = function (url, body, csrf) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: "http_" + response.status, message: "服务器返回 " + response.status + "；请刷新页面后重试（登录或安全令牌可能已过期）。" };
      }).then(function (json) { json.httpStatus = response.status; return json; });
    });
  };

  /* Save `modeler`'s XML to `url`, telling `setStatus` how it goes; resolves with the server's answer
     (the draft's lint report), rejects when the server refused the file. */
  window.OnewindowStudio.saveXml = function (modeler, url, csrf, setStatus) {
    setStatus("正在保存……");
    return modeler.saveXML({ format: true }).then(function (result) {
      return window.OnewindowStudio.postJson(url, { text: result.xml }, csrf);
    }).then(function (answer) {
      if (answer.error) { setStatus("未保存：" + answer.message, "lint-bad"); throw new Error(answer.message); }
      setStatus("已保存", "lint-ok");
      return answer;
    });
  };
})();
