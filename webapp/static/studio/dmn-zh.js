/* Chinese for dmn-js's own labels (its translate service, as bpmn-js documents it): the analysts who edit a
   decision table read Chinese. A label not listed here stays as dmn-js writes it. */
(function () {
  "use strict";
  var ZH = {
    "When": "当", "And": "且", "Then": "则", "Hit policy": "命中策略", "Hit policy:": "命中策略：",
    "Annotation": "说明", "Annotations": "说明", "View DRD": "查看决策需求图", "Add rule": "添加规则",
    "Add rule above": "在上方添加规则", "Add rule below": "在下方添加规则", "Remove rule": "删除规则",
    "Copy rule": "复制规则", "Cut rule": "剪切规则", "Paste rule above": "粘贴到上方", "Paste rule below": "粘贴到下方",
    "Move rule": "移动规则", "Add input": "添加输入", "Add output": "添加输出", "Input": "输入", "Output": "输出",
    "Add input column left": "在左侧添加输入列", "Add input column right": "在右侧添加输入列",
    "Add output column left": "在左侧添加输出列", "Add output column right": "在右侧添加输出列",
    "Remove input column": "删除输入列", "Remove output column": "删除输出列",
    "Copy input column": "复制输入列", "Copy output column": "复制输出列",
    "Cut input column": "剪切输入列", "Cut output column": "剪切输出列",
    "Paste input column left": "粘贴到左侧", "Paste input column right": "粘贴到右侧",
    "Paste output column left": "粘贴到左侧", "Paste output column right": "粘贴到右侧",
    "Input label": "输入名称", "Input label: ": "输入名称：", "Input expression": "输入表达式",
    "Input expression: ": "输入表达式：", "Input type": "输入类型", "Input values": "输入取值",
    "Output label": "输出名称", "Output label: ": "输出名称：", "Output name": "输出字段",
    "Output name: ": "输出字段：", "Output type": "输出类型", "Output values": "输出取值",
    "Expression": "表达式", "Expression language": "表达式语言", "Expression language:": "表达式语言：",
    "Type": "类型", "Value": "值", "Values": "取值", "Predefined values": "预设取值",
    "Add predefined values": "添加预设取值", "Clear predefined values": "清除预设取值", "Add values": "添加取值",
    "No values": "无取值", "Custom values": "自定义取值", "Edit": "编辑", "Delete": "删除", "Resize": "调整大小",
    "Edit string": "编辑文本", "Edit number": "编辑数字", "Edit boolean": "编辑是否", "Edit date": "编辑日期",
    "String value": "文本值", "Boolean value": "是否值", "Yes": "是", "No": "否",
    "Strings must be in double quotes": "文本须加双引号", "Match one": "等于其一", "Match none": "都不等于",
    "Comparison": "比较", "Range": "范围", "Equals": "等于", "Less": "小于", "Less or equals": "小于等于",
    "Greater": "大于", "Greater or equals": "大于等于", "Exactly": "正好", "Include": "包含", "Exclude": "不包含",
    "Add cell description": "添加单元格说明", "Remove cell description": "删除单元格说明",
    "Decision name": "决策名称", "Decision name: ": "决策名称：", "Element name": "元素名称",
    "Variable name": "变量名", "Variable name:": "变量名：", "Variable type": "变量类型", "Variable type:": "变量类型：",
    "Literal expression": "文字表达式", "Literal expression editor": "文字表达式编辑器",
    "Change cell expression language": "更改单元格的表达式语言", "Enter expression": "输入表达式",
    "Search in diagram": "在图中搜索", "Set value": "设置值", "Change type": "更改类型"
  };

  function translate(template, replacements) {
    var text = Object.prototype.hasOwnProperty.call(ZH, template) ? ZH[template] : template;
    return text.replace(/{([^}]+)}/g, function (_, key) {
      return replacements && key in replacements ? replacements[key] : "{" + key + "}";
    });
  }

  window.OnewindowDmnTranslate = { translate: ["value", translate] };
}());
